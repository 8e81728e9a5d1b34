//! Free text in the item vectors' joint space: MiniLM, then the joint space's trained text head.
//! Persona descriptions and visitors' typed descriptions are embedded this way.

use std::path::Path;
use std::sync::Mutex;

use tailor_core::{Embedding, TextQuery, TextQueryError};
use tch::Device;

use crate::{EmbedError, JointSpace, MiniLm, ModelFiles, best_device};

pub struct FreeTextEncoder {
    text: MiniLm,
    joint: JointSpace,
}

impl FreeTextEncoder {
    /// The joint space `tailor embed` saved at `joint_path` (dimension `dim`), over MiniLM from
    /// `models_dir` (default: where scripts/setup installed it).
    pub fn load(joint_path: &Path, models_dir: Option<&Path>, dim: i64) -> Result<FreeTextEncoder, EmbedError> {
        if !joint_path.is_file() {
            return Err(EmbedError::Config {
                path: joint_path.to_path_buf(),
                reason:
                    "missing: free text is embedded with the offline encoders' joint space; run `tailor embed` first"
                        .to_owned(),
            });
        }
        let device = best_device();
        let text = MiniLm::load(&ModelFiles::locate(models_dir)?.minilm, device)?;
        let joint = JointSpace::load(joint_path, dim, device)?;
        Ok(FreeTextEncoder { text, joint })
    }

    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, EmbedError> {
        let projected = self.joint.project_text(&self.text.embed(texts)?).to_device(Device::Cpu);
        let dim = projected.size()[1] as usize;
        let count = texts.len() * dim;
        let mut flat = vec![0f32; count];
        projected.copy_data(&mut flat, count);
        Ok(flat.chunks_exact(dim).map(|row| Embedding::new(row.to_vec(), dim)).collect::<Result<_, _>>()?)
    }
}

/// One query at a time: libtorch modules are not shared across threads.
pub struct SharedFreeTextEncoder(Mutex<FreeTextEncoder>);

impl SharedFreeTextEncoder {
    pub fn new(encoder: FreeTextEncoder) -> SharedFreeTextEncoder {
        SharedFreeTextEncoder(Mutex::new(encoder))
    }
}

impl TextQuery for SharedFreeTextEncoder {
    fn embed(&self, text: &str) -> Result<Embedding, TextQueryError> {
        let encoder =
            self.0.lock().map_err(|_| TextQueryError::Unavailable("the text encoder failed earlier".to_owned()))?;
        let mut vectors = encoder.embed(&[text]).map_err(|e| TextQueryError::Refused(e.to_string()))?;
        vectors.pop().ok_or_else(|| TextQueryError::Unavailable("the text encoder returned nothing".to_owned()))
    }
}
