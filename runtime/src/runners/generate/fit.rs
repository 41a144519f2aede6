//! Between the model's frame and the host's: scaled with an antialiased bicubic filter,
//! honouring the host's pixel aspect ratio, and fitted by cropping (fill), with bars
//! (letterbox / pillarbox), or stretched.
use tch::{Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    Fill,
    Letterbox,
    Stretch,
}

impl Fit {
    pub fn from_choice(i: u32) -> Fit {
        match i {
            1 => Fit::Letterbox,
            2 => Fit::Stretch,
            _ => Fit::Fill,
        }
    }
}

/// `[3, h, w]` → `[3, oh, ow]`, bicubic with antialiasing when shrinking, clamped to 0..1.
pub fn resize(frame: &Tensor, oh: i64, ow: i64) -> Tensor {
    let size = frame.size();
    if size[1] == oh && size[2] == ow {
        return frame.shallow_clone();
    }
    frame
        .to_kind(Kind::Float)
        .unsqueeze(0)
        .internal_upsample_bicubic2d_aa([oh, ow], false, None, None)
        .squeeze_dim(0)
        .clamp(0.0, 1.0)
}

/// A model frame `[3, h, w]` (square pixels) onto the host's `out_w × out_h` frame whose
/// pixels are `pixel_aspect` wide.
pub fn to_host(frame: &Tensor, out_w: i64, out_h: i64, pixel_aspect: f64, fit: Fit) -> Tensor {
    let [_, h, w] = frame.size()[..] else {
        panic!("a frame is [3, h, w]")
    };
    let display_w = out_w as f64 * pixel_aspect;
    let (sx, sy) = (display_w / w as f64, out_h as f64 / h as f64);
    let scale = match fit {
        Fit::Stretch => return resize(frame, out_h, out_w),
        Fit::Fill => sx.max(sy),
        Fit::Letterbox => sx.min(sy),
    };
    let sh = ((h as f64 * scale).round() as i64).max(1);
    let sw = ((w as f64 * scale / pixel_aspect).round() as i64).max(1);
    let scaled = resize(frame, sh, sw);
    place_centred(&scaled, out_w, out_h)
}

/// The host's frame `[3, H, W]` (pixels `pixel_aspect` wide) onto the model's `w × h`, the
/// inverse of [`to_host`]: what Image to Video conditions on.
pub fn from_host(frame: &Tensor, w: i64, h: i64, pixel_aspect: f64, fit: Fit) -> Tensor {
    let [_, in_h, in_w] = frame.size()[..] else {
        panic!("a frame is [3, h, w]")
    };
    let display_w = in_w as f64 * pixel_aspect;
    let (sx, sy) = (w as f64 / display_w, h as f64 / in_h as f64);
    let scale = match fit {
        Fit::Stretch => return resize(frame, h, w),
        // The host frame fills the model's: what the model sees is what Fill shows.
        Fit::Fill => sx.max(sy),
        Fit::Letterbox => sx.min(sy),
    };
    let sh = ((in_h as f64 * scale).round() as i64).max(1);
    let sw = ((display_w * scale).round() as i64).max(1);
    place_centred(&resize(frame, sh, sw), w, h)
}

/// Crops or pads (black) `[3, h, w]` to `[3, out_h, out_w]` about the centre.
fn place_centred(frame: &Tensor, out_w: i64, out_h: i64) -> Tensor {
    let [c, h, w] = frame.size()[..] else {
        panic!("a frame is [3, h, w]")
    };
    let out = Tensor::zeros([c, out_h, out_w], (Kind::Float, frame.device()));
    // Source and destination windows along one axis.
    let span = |inside: i64, outside: i64| {
        if inside >= outside {
            ((inside - outside) / 2, 0, outside)
        } else {
            (0, (outside - inside) / 2, inside)
        }
    };
    let (sy, dy, ny) = span(h, out_h);
    let (sx, dx, nx) = span(w, out_w);
    out.narrow(1, dy, ny)
        .narrow(2, dx, nx)
        .copy_(&frame.narrow(1, sy, ny).narrow(2, sx, nx));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(h: i64, w: i64) -> Tensor {
        Tensor::ones([3, h, w], (Kind::Float, tch::Device::Cpu)) * 0.5
    }

    #[test]
    fn a_square_model_frame_fills_crops_or_boxes_a_wide_host_frame() {
        let f = frame(64, 64);
        let filled = to_host(&f, 320, 180, 1.0, Fit::Fill);
        assert_eq!(filled.size(), [3, 180, 320]);
        assert!((filled.mean(Kind::Float).double_value(&[]) - 0.5).abs() < 1e-4);
        let boxed = to_host(&f, 320, 180, 1.0, Fit::Letterbox);
        // A 180×180 square in the middle, black bars of 70 pixels on each side.
        assert_eq!(boxed.double_value(&[0, 90, 69]), 0.0);
        assert!((boxed.double_value(&[0, 90, 70]) - 0.5).abs() < 1e-4);
        assert!((boxed.double_value(&[0, 90, 249]) - 0.5).abs() < 1e-4);
        assert_eq!(boxed.double_value(&[0, 90, 250]), 0.0);
    }

    #[test]
    fn anamorphic_pixels_are_honoured() {
        // 2:1 pixels: a 160×180 host frame displays 320×180; a square fills 90 pixels wide.
        let boxed = to_host(&frame(64, 64), 160, 180, 2.0, Fit::Letterbox);
        assert_eq!(boxed.size(), [3, 180, 160]);
        let row = boxed.get(0).get(90);
        let lit = row.gt(0.25).sum(Kind::Int64).int64_value(&[]);
        assert_eq!(lit, 90);
    }

    #[test]
    fn from_host_crops_a_wide_frame_to_the_models_square() {
        // Left third red, the rest blue: Fill keeps the centre square, so red is mostly gone.
        let f = Tensor::zeros([3, 180, 320], (Kind::Float, tch::Device::Cpu));
        let _ = f.get(0).narrow(1, 0, 106).fill_(1.0);
        let _ = f.get(2).narrow(1, 106, 214).fill_(1.0);
        let m = from_host(&f, 64, 64, 1.0, Fit::Fill);
        assert_eq!(m.size(), [3, 64, 64]);
        let red = m.get(0).mean(Kind::Float).double_value(&[]);
        assert!(red < 0.2, "{red}");
        let boxed = from_host(&f, 64, 64, 1.0, Fit::Letterbox);
        assert_eq!(boxed.double_value(&[2, 0, 32]), 0.0, "bars above");
    }
}
