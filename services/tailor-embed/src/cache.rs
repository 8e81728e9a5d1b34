//! Encoder outputs cached by content: the key is a BLAKE3 hash of the encoder's name and version
//! and the exact input (the text, or the photo file's bytes), so a re-run on an unchanged
//! catalogue computes nothing, an edited title or replaced photo is recomputed, and an interrupted
//! run keeps every batch it committed.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, TableDefinition};

use crate::EmbedError;

const FEATURES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("features");

pub type ContentKey = [u8; 32];

pub fn content_key(encoder: &str, content: &[u8]) -> ContentKey {
    let mut hasher = blake3::Hasher::new();
    hasher.update(encoder.as_bytes());
    hasher.update(&[0]);
    hasher.update(content);
    *hasher.finalize().as_bytes()
}

pub struct FeatureCache {
    db: Database,
    path: PathBuf,
}

impl FeatureCache {
    pub fn open(path: &Path) -> Result<FeatureCache, EmbedError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| cache_error(path, e))?;
        }
        let db = Database::create(path).map_err(|e| cache_error(path, e))?;
        Ok(FeatureCache { db, path: path.to_path_buf() })
    }

    /// The cached vector of each key, `None` where there is none.
    pub fn get_many(&self, keys: &[ContentKey]) -> Result<Vec<Option<Vec<f32>>>, EmbedError> {
        let txn = self.db.begin_read().map_err(|e| cache_error(&self.path, e))?;
        let table = match txn.open_table(FEATURES) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(vec![None; keys.len()]),
            Err(e) => return Err(cache_error(&self.path, e)),
        };
        keys.iter()
            .map(|key| {
                let found = table.get(key).map_err(|e| cache_error(&self.path, e))?;
                Ok(found.map(|bytes| {
                    bytes.value().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect()
                }))
            })
            .collect()
    }

    /// Stores vectors in one transaction.
    pub fn put_many(&self, entries: &[(ContentKey, Vec<f32>)]) -> Result<(), EmbedError> {
        let txn = self.db.begin_write().map_err(|e| cache_error(&self.path, e))?;
        {
            let mut table = txn.open_table(FEATURES).map_err(|e| cache_error(&self.path, e))?;
            for (key, vector) in entries {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                table.insert(key, bytes.as_slice()).map_err(|e| cache_error(&self.path, e))?;
            }
        }
        txn.commit().map_err(|e| cache_error(&self.path, e))
    }
}

fn cache_error(path: &Path, error: impl std::fmt::Display) -> EmbedError {
    EmbedError::Cache { path: path.to_path_buf(), reason: error.to_string() }
}
