//! Loading weights from a model directory in the diffusers layout: safetensors only (sharded or
//! not), every tensor's name and shape checked against the model built from its config before
//! any weight is read, and the first mismatch named.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use tch::{nn, Kind, Tensor};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{dir} does not exist or is not a directory; expected a model directory in the diffusers layout (transformer/, vae/, text_encoder/, tokenizer/, scheduler/)")]
    NoDirectory { dir: PathBuf },
    #[error("{dir} holds only pickle checkpoints ({found}); dreamfx loads safetensors only, because pickle files can run code. Convert them to .safetensors first")]
    PickleOnly { dir: PathBuf, found: String },
    #[error("no .safetensors weights in {dir}")]
    NoWeights { dir: PathBuf },
    #[error("missing {what}: expected {path}")]
    MissingFile { what: String, path: PathBuf },
    #[error("cannot read {path}: {why}")]
    Unreadable { path: PathBuf, why: String },
    #[error("tensor {name} is missing from {dir}")]
    MissingTensor { name: String, dir: PathBuf },
    #[error("tensor {name} in {file} has shape {found:?}, but the config says {expected:?}")]
    ShapeMismatch {
        name: String,
        file: PathBuf,
        expected: Vec<i64>,
        found: Vec<i64>,
    },
    #[error("tensor {name} in {file} has dtype {dtype}; expected F32, F16 or BF16")]
    BadDtype {
        name: String,
        file: PathBuf,
        dtype: String,
    },
    #[error(
        "{file} has a tensor {name} that this model does not use (wrong model type or config?)"
    )]
    Unexpected { name: String, file: PathBuf },
    #[error("bad config {path}: {why}")]
    BadConfig { path: PathBuf, why: String },
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// Where a tensor is, its dtype name and its shape, from a safetensors header.
pub type TensorHeader = (PathBuf, String, Vec<i64>);

/// The safetensors files of one component directory (e.g. `transformer/`).
#[derive(Debug, Clone)]
pub struct WeightFiles {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

impl WeightFiles {
    /// Finds the weights in `dir`: every `*.safetensors` (shards included). Refuses a directory
    /// whose only checkpoints are pickles.
    pub fn find(dir: &Path) -> Result<WeightFiles, LoadError> {
        if !dir.is_dir() {
            return Err(LoadError::NoDirectory { dir: dir.into() });
        }
        let entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| LoadError::Unreadable {
                path: dir.into(),
                why: e.to_string(),
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let mut files: Vec<PathBuf> = entries
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
            .cloned()
            .collect();
        files.sort();
        if files.is_empty() {
            let pickles: Vec<String> = entries
                .iter()
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| matches!(e.to_str(), Some("bin" | "pt" | "pth" | "ckpt")))
                })
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            if !pickles.is_empty() {
                return Err(LoadError::PickleOnly {
                    dir: dir.into(),
                    found: pickles.join(", "),
                });
            }
            return Err(LoadError::NoWeights { dir: dir.into() });
        }
        Ok(WeightFiles {
            dir: dir.into(),
            files,
        })
    }

    /// Name → (file, dtype, shape) of every tensor, read from the headers only.
    pub fn headers(&self) -> Result<BTreeMap<String, TensorHeader>, LoadError> {
        let mut out = BTreeMap::new();
        for file in &self.files {
            let unreadable = |why: String| LoadError::Unreadable {
                path: file.clone(),
                why,
            };
            let f = std::fs::File::open(file).map_err(|e| unreadable(e.to_string()))?;
            // SAFETY: read-only map of a file we only read; only the header pages are touched.
            let map = unsafe { memmap2::Mmap::map(&f) }.map_err(|e| unreadable(e.to_string()))?;
            let (_, meta) = safetensors::SafeTensors::read_metadata(&map)
                .map_err(|e| unreadable(format!("{e:?}")))?;
            for (name, info) in meta.tensors() {
                let shape = info.shape.iter().map(|&d| d as i64).collect();
                out.insert(name, (file.clone(), format!("{:?}", info.dtype), shape));
            }
        }
        Ok(out)
    }

    /// Checks the files against `vs` (names after `rename`, shapes, dtypes), then copies the
    /// weights in, converting to each variable's kind.
    pub fn load_into(
        &self,
        vs: &nn::VarStore,
        rename: &dyn Fn(&str) -> String,
    ) -> Result<(), LoadError> {
        self.load_into_skipping(vs, rename, &|_| false)
    }

    /// [`WeightFiles::load_into`], leaving out the file's tensors for which `skip` (given the
    /// name in the file) is true: parts of a checkpoint this model does not build (e.g. a VAE's
    /// encoder when only its decoder runs) are neither checked nor copied.
    pub fn load_into_skipping(
        &self,
        vs: &nn::VarStore,
        rename: &dyn Fn(&str) -> String,
        skip: &dyn Fn(&str) -> bool,
    ) -> Result<(), LoadError> {
        let headers = self.headers()?;
        let renamed: HashMap<String, &TensorHeader> = headers
            .iter()
            .filter(|(n, _)| !skip(n))
            .map(|(n, h)| (rename(n), h))
            .collect();
        let vars = vs.variables();
        let mut wanted: Vec<(&String, &Tensor)> = vars.iter().collect();
        wanted.sort_by(|a, b| a.0.cmp(b.0));
        for (name, var) in &wanted {
            let Some((file, dtype, shape)) = renamed.get(*name) else {
                return Err(LoadError::MissingTensor {
                    name: (*name).clone(),
                    dir: self.dir.clone(),
                });
            };
            if *shape != var.size() {
                return Err(LoadError::ShapeMismatch {
                    name: (*name).clone(),
                    file: file.clone(),
                    expected: var.size(),
                    found: shape.clone(),
                });
            }
            if !matches!(dtype.as_str(), "F32" | "F16" | "BF16") {
                return Err(LoadError::BadDtype {
                    name: (*name).clone(),
                    file: file.clone(),
                    dtype: dtype.clone(),
                });
            }
        }
        if let Some((name, (file, _, _))) = renamed.iter().find(|(n, _)| !vars.contains_key(*n)) {
            return Err(LoadError::Unexpected {
                name: name.clone(),
                file: file.clone(),
            });
        }
        let _guard = tch::no_grad_guard();
        for file in &self.files {
            for (name, tensor) in Tensor::read_safetensors(file)? {
                if skip(&name) {
                    continue;
                }
                let mut var = vars[&rename(&name)].shallow_clone();
                let kind = var.kind();
                var.copy_(&tensor.to_kind(kind).to_device(var.device()));
            }
        }
        Ok(())
    }
}

/// Reads a component's `config.json`.
pub fn read_config<T: serde::de::DeserializeOwned>(dir: &Path) -> Result<T, LoadError> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|_| LoadError::MissingFile {
        what: "config".into(),
        path: path.clone(),
    })?;
    serde_json::from_str(&text).map_err(|e| LoadError::BadConfig {
        path,
        why: e.to_string(),
    })
}

/// fp32 on CPU, bf16 on CUDA (DESIGN §4).
pub fn default_kind(device: tch::Device) -> Kind {
    if device.is_cuda() {
        Kind::BFloat16
    } else {
        Kind::Float
    }
}

/// The components of a diffusers model directory that decide its pixels.
const MODEL_PARTS: [&str; 6] = [
    "transformer",
    "transformer_2",
    "vae",
    "text_encoder",
    "tokenizer",
    "scheduler",
];

/// The identity of a model directory's weights and configs: a blake3 hash of the content of
/// `model_index.json` and every file of its components (not its model card or training notes),
/// so two copies of one model on two farm nodes are the same model, and a retrained one is not.
/// Hashing reads every byte once; the answer is remembered per file list, sizes and times.
pub fn model_identity(dir: &Path) -> Result<String, LoadError> {
    use std::sync::Mutex;
    /// Each file's path, size and modification time: when none changed, neither did the hash.
    type Stamp = Vec<(PathBuf, u64, std::time::SystemTime)>;
    static KNOWN: Mutex<Vec<(Stamp, String)>> = Mutex::new(Vec::new());
    if !dir.is_dir() {
        return Err(LoadError::NoDirectory { dir: dir.into() });
    }
    let unreadable = |path: &Path, e: std::io::Error| LoadError::Unreadable {
        path: path.into(),
        why: e.to_string(),
    };
    let mut files = Vec::new();
    let index = dir.join("model_index.json");
    if index.is_file() {
        files.push(index);
    }
    for part in MODEL_PARTS {
        let sub = dir.join(part);
        if !sub.is_dir() {
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&sub)
            .map_err(|e| unreadable(&sub, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        files.extend(entries);
    }
    let mut stamp = Vec::with_capacity(files.len());
    for f in &files {
        let meta = std::fs::metadata(f).map_err(|e| unreadable(f, e))?;
        let modified = meta.modified().map_err(|e| unreadable(f, e))?;
        stamp.push((f.clone(), meta.len(), modified));
    }
    if let Some((_, id)) = KNOWN.lock().unwrap().iter().find(|(s, _)| *s == stamp) {
        return Ok(id.clone());
    }
    let mut hasher = blake3::Hasher::new();
    for f in &files {
        let name = f
            .strip_prefix(dir)
            .unwrap_or(f)
            .to_string_lossy()
            .into_owned();
        hasher.update(name.as_bytes());
        hasher.update(&[0]);
        let file = std::fs::File::open(f).map_err(|e| unreadable(f, e))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        hasher
            .update_reader(&mut reader)
            .map_err(|e| unreadable(f, e))?;
    }
    let id = hasher.finalize().to_hex()[..32].to_string();
    let mut known = KNOWN.lock().unwrap();
    if known.len() > 16 {
        known.remove(0);
    }
    known.push((stamp, id.clone()));
    Ok(id)
}
