//! Free text in the item vectors' joint space: MiniLM, then the joint space's trained text head.
//! Persona descriptions and visitors' typed descriptions are embedded this way.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use tailor_core::Embedding;
use tailor_embed::{JointSpace, MiniLm, ModelFiles, best_device};
use tailor_ranker::TextQuery;
use tch::Device;

use crate::config::Config;

pub struct JointTextEncoder {
    text: MiniLm,
    joint: JointSpace,
}

impl JointTextEncoder {
    pub fn joint_path(config: &Config) -> PathBuf {
        config.data_dir.join("embeddings/joint.safetensors")
    }

    pub fn load(config: &Config) -> anyhow::Result<JointTextEncoder> {
        let joint_path = JointTextEncoder::joint_path(config);
        anyhow::ensure!(
            joint_path.is_file(),
            "{} is missing: free text is embedded with the offline encoders' joint space; run `tailor embed` first",
            joint_path.display()
        );
        let device = best_device();
        let models = ModelFiles::locate(config.embed.models_dir.as_deref())?;
        let text = MiniLm::load(&models.minilm, device)?;
        let joint = JointSpace::load(&joint_path, config.embed.dim, device)
            .with_context(|| format!("loading {}", joint_path.display()))?;
        Ok(JointTextEncoder { text, joint })
    }

    pub fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Embedding>> {
        let projected = self.joint.project_text(&self.text.embed(texts)?).to_device(Device::Cpu);
        let dim = projected.size()[1] as usize;
        let count = texts.len() * dim;
        let mut flat = vec![0f32; count];
        projected.copy_data(&mut flat, count);
        Ok(flat.chunks_exact(dim).map(|row| Embedding::new(row.to_vec(), dim)).collect::<Result<_, _>>()?)
    }
}

/// For the ranking service: one query at a time (libtorch modules are not shared across threads).
pub struct SharedTextEncoder(pub Mutex<JointTextEncoder>);

impl TextQuery for SharedTextEncoder {
    fn embed(&self, text: &str) -> Result<Embedding, String> {
        let encoder = self.0.lock().map_err(|_| "the text encoder failed earlier".to_owned())?;
        let mut vectors = encoder.embed(&[text]).map_err(|e| format!("{e:#}"))?;
        vectors.pop().ok_or_else(|| "the text encoder returned nothing".to_owned())
    }
}
