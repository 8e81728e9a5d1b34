//! The data directory's layout, in one place: every file a step writes and a later one reads.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
pub struct DataDir {
    root: PathBuf,
    item_vectors: Option<PathBuf>,
    models: Option<PathBuf>,
}

impl DataDir {
    /// `item_vectors` and `models` replace their default places when given.
    pub fn new(root: &Path, item_vectors: Option<PathBuf>, models: Option<PathBuf>) -> DataDir {
        DataDir { root: root.to_path_buf(), item_vectors, models }
    }

    /// The catalogue store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn log(&self) -> PathBuf {
        self.root.join("log")
    }

    fn embeddings(&self) -> PathBuf {
        self.root.join("embeddings")
    }

    /// Fused item vectors, one per item: what the consumer and the ranking service read.
    pub fn item_vectors(&self) -> PathBuf {
        self.item_vectors.clone().unwrap_or_else(|| self.embeddings().join("items.safetensors"))
    }

    /// Item vectors from the title alone and from the photo alone, for the evaluation's baselines.
    pub fn text_only_vectors(&self) -> PathBuf {
        self.embeddings().join("text_only.safetensors")
    }

    pub fn photo_only_vectors(&self) -> PathBuf {
        self.embeddings().join("photo_only.safetensors")
    }

    /// The joint space's trained heads, which free text is embedded with.
    pub fn joint_space(&self) -> PathBuf {
        self.embeddings().join("joint.safetensors")
    }

    /// The encoders' cached features, so embedding again skips unchanged items.
    pub fn feature_cache(&self) -> PathBuf {
        self.embeddings().join("features.redb")
    }

    pub fn models(&self) -> PathBuf {
        self.models.clone().unwrap_or_else(|| self.root.join("models"))
    }

    /// A consumer's snapshot; `consumer` is made safe as a file name.
    pub fn snapshot(&self, consumer: &str) -> PathBuf {
        let name: String =
            consumer.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
        self.root.join(format!("stream/{name}.snapshot"))
    }

    /// The key that signs session tokens when none is configured.
    pub fn session_key(&self) -> PathBuf {
        self.root.join("session.key")
    }

    /// Ratings an LLM gave personas, kept so a rerun asks again only for new pairs.
    pub fn llm_ratings(&self) -> PathBuf {
        self.root.join("personas/llm-ratings.jsonl")
    }
}
