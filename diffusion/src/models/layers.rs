//! Layers the model families share, where their reference implementations agree exactly: the
//! variable builder (torch's default initialisers for a fresh model, zeros for one whose weights
//! will be loaded), `nn.Linear` and the sinusoidal timestep embedding.
use tch::nn::{self, Init};
use tch::{Device, Kind, Tensor};

/// A `nn.Linear` whose parameters live in a chosen kind; `bias` is `None` for `bias=False`.
#[derive(Debug)]
pub(crate) struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    pub fn new(p: &nn::Path, in_dim: i64, out_dim: i64, b: &Builder) -> Linear {
        Linear::with_kind(p, in_dim, out_dim, b, b.kind)
    }

    pub fn with_kind(p: &nn::Path, in_dim: i64, out_dim: i64, b: &Builder, kind: Kind) -> Linear {
        // torch.nn.Linear's default: kaiming_uniform(a=sqrt(5)) = U(±1/sqrt(fan_in)) for both.
        let bound = 1.0 / (in_dim as f64).sqrt();
        Linear {
            weight: b.var(p, "weight", &[out_dim, in_dim], bound, kind),
            bias: Some(b.var(p, "bias", &[out_dim], bound, kind)),
        }
    }

    /// `nn.Linear(in_dim, out_dim, bias=False)`.
    pub fn no_bias(p: &nn::Path, in_dim: i64, out_dim: i64, b: &Builder) -> Linear {
        let bound = 1.0 / (in_dim as f64).sqrt();
        Linear {
            weight: b.var(p, "weight", &[out_dim, in_dim], bound, b.kind),
            bias: None,
        }
    }

    pub fn forward(&self, xs: &Tensor) -> Tensor {
        xs.linear(&self.weight, self.bias.as_ref())
    }
}

/// Creates variables: random (torch defaults) for a fresh model, zeros when weights follow.
pub(crate) struct Builder {
    pub device: Device,
    pub kind: Kind,
    pub random: bool,
}

impl Builder {
    /// A variable initialised U(±bound) for a fresh model, zeros when weights follow.
    pub fn var(&self, p: &nn::Path, name: &str, dims: &[i64], bound: f64, kind: Kind) -> Tensor {
        let init = if self.random {
            Init::Uniform {
                lo: -bound,
                up: bound,
            }
        } else {
            Init::Const(0.)
        };
        self.add(p, name, dims, init, kind)
    }

    pub fn randn(&self, p: &nn::Path, name: &str, dims: &[i64], stdev: f64, kind: Kind) -> Tensor {
        let init = if self.random {
            Init::Randn { mean: 0., stdev }
        } else {
            Init::Const(0.)
        };
        self.add(p, name, dims, init, kind)
    }

    pub fn constant(
        &self,
        p: &nn::Path,
        name: &str,
        dims: &[i64],
        value: f64,
        kind: Kind,
    ) -> Tensor {
        self.add(p, name, dims, Init::Const(value), kind)
    }

    fn add(&self, p: &nn::Path, name: &str, dims: &[i64], init: Init, kind: Kind) -> Tensor {
        let t = nn::f_init(init, dims, self.device, kind).expect("allocating a variable");
        p.add(name, t, true)
    }
}

/// diffusers' `get_timestep_embedding(t, dim, flip_sin_to_cos=True, downscale_freq_shift=0)`
/// (what `Timesteps(dim, True, 0)` computes for Wan, Mochi and HunyuanVideo alike): `[N] → [N, dim]` fp32,
/// cosines first.
pub fn timestep_embedding(timesteps: &Tensor, dim: i64) -> Tensor {
    let half = dim / 2;
    let device = timesteps.device();
    let exponent = Tensor::arange(half, (Kind::Float, device)) * (-(10000f64).ln());
    let exponent = exponent / (half as f64);
    let freqs = exponent.exp();
    let args = timesteps.to_kind(Kind::Float).unsqueeze(1) * freqs.unsqueeze(0);
    let emb = Tensor::cat(&[args.cos(), args.sin()], -1);
    if dim % 2 == 1 {
        emb.constant_pad_nd([0, 1, 0, 0])
    } else {
        emb
    }
}
