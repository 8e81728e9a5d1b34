//! The embedded catalogue store: one redb file under the data directory, items keyed by id and
//! encoded with postcard. Writes are ACID transactions, so an interrupted ingestion keeps every
//! batch it committed and nothing half-written.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use tailor_core::{Item, ItemId};

use crate::CatalogError;

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const FORMAT_VERSION_KEY: &str = "format_version";
/// Bumped by every committed change, so later stages can tell whether the catalogue moved.
const REVISION_KEY: &str = "revision";
const FORMAT_VERSION: u64 = 1;
const FILE_NAME: &str = "catalog.redb";

pub struct CatalogStore {
    db: Database,
    path: PathBuf,
}

/// How an upsert changed the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// The positions in the batch of the new and updated items.
    pub changed: Vec<usize>,
}

impl CatalogStore {
    /// Opens the store in `data_dir`, creating both if needed.
    pub fn open(data_dir: &Path) -> Result<CatalogStore, CatalogError> {
        std::fs::create_dir_all(data_dir).map_err(|source| CatalogError::Read { path: data_dir.into(), source })?;
        let path = data_dir.join(FILE_NAME);
        let db = Database::create(&path).map_err(|e| store_error(&path, e))?;
        let store = CatalogStore { db, path };
        store.check_format_version()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_format_version(&self) -> Result<(), CatalogError> {
        let txn = self.db.begin_write().map_err(|e| self.error(e))?;
        let found = {
            let mut meta = txn.open_table(META).map_err(|e| self.error(e))?;
            let found = meta.get(FORMAT_VERSION_KEY).map_err(|e| self.error(e))?.map(|v| v.value());
            if found.is_none() {
                meta.insert(FORMAT_VERSION_KEY, FORMAT_VERSION).map_err(|e| self.error(e))?;
                txn.open_table(ITEMS).map_err(|e| self.error(e))?;
            }
            found
        };
        txn.commit().map_err(|e| self.error(e))?;
        match found {
            Some(found) if found != FORMAT_VERSION => {
                Err(CatalogError::UnsupportedStoreVersion { path: self.path.clone(), found, supported: FORMAT_VERSION })
            }
            _ => Ok(()),
        }
    }

    /// Inserts new items and replaces changed ones in one transaction; identical items are left
    /// alone, and a batch that changes nothing commits nothing.
    pub fn upsert(&self, items: &[Item]) -> Result<UpsertCounts, CatalogError> {
        let mut counts = UpsertCounts::default();
        let txn = self.db.begin_write().map_err(|e| self.error(e))?;
        {
            let mut table = txn.open_table(ITEMS).map_err(|e| self.error(e))?;
            for (position, item) in items.iter().enumerate() {
                let encoded = postcard::to_allocvec(item).expect("items always encode");
                let key = item.id().as_str();
                let previous = table.get(key).map_err(|e| self.error(e))?.map(|v| v.value() == encoded.as_slice());
                match previous {
                    Some(true) => counts.unchanged += 1,
                    Some(false) => counts.updated += 1,
                    None => counts.new += 1,
                }
                if previous != Some(true) {
                    counts.changed.push(position);
                    table.insert(key, encoded.as_slice()).map_err(|e| self.error(e))?;
                }
            }
        }
        if counts.new + counts.updated == 0 {
            txn.abort().map_err(|e| self.error(e))?;
            return Ok(counts);
        }
        {
            let mut meta = txn.open_table(META).map_err(|e| self.error(e))?;
            let revision = meta.get(REVISION_KEY).map_err(|e| self.error(e))?.map_or(0, |v| v.value());
            meta.insert(REVISION_KEY, revision + 1).map_err(|e| self.error(e))?;
        }
        txn.commit().map_err(|e| self.error(e))?;
        Ok(counts)
    }

    /// Every item, in id order.
    pub fn load_all(&self) -> Result<Vec<Item>, CatalogError> {
        let txn = self.db.begin_read().map_err(|e| self.error(e))?;
        let table = txn.open_table(ITEMS).map_err(|e| self.error(e))?;
        let mut items = Vec::with_capacity(table.len().map_err(|e| self.error(e))? as usize);
        for entry in table.iter().map_err(|e| self.error(e))? {
            let (key, value) = entry.map_err(|e| self.error(e))?;
            items.push(self.decode(key.value(), value.value())?);
        }
        Ok(items)
    }

    pub fn get(&self, id: &ItemId) -> Result<Option<Item>, CatalogError> {
        let txn = self.db.begin_read().map_err(|e| self.error(e))?;
        let table = txn.open_table(ITEMS).map_err(|e| self.error(e))?;
        let value = table.get(id.as_str()).map_err(|e| self.error(e))?;
        value.map(|v| self.decode(id.as_str(), v.value())).transpose()
    }

    pub fn len(&self) -> Result<u64, CatalogError> {
        let txn = self.db.begin_read().map_err(|e| self.error(e))?;
        let table = txn.open_table(ITEMS).map_err(|e| self.error(e))?;
        table.len().map_err(|e| self.error(e))
    }

    pub fn is_empty(&self) -> Result<bool, CatalogError> {
        Ok(self.len()? == 0)
    }

    pub fn revision(&self) -> Result<u64, CatalogError> {
        let txn = self.db.begin_read().map_err(|e| self.error(e))?;
        let meta = txn.open_table(META).map_err(|e| self.error(e))?;
        Ok(meta.get(REVISION_KEY).map_err(|e| self.error(e))?.map_or(0, |v| v.value()))
    }

    fn decode(&self, id: &str, bytes: &[u8]) -> Result<Item, CatalogError> {
        postcard::from_bytes(bytes).map_err(|e| CatalogError::CorruptItem {
            path: self.path.clone(),
            id: id.to_owned(),
            reason: e.to_string(),
        })
    }

    fn error(&self, e: impl Into<redb::Error>) -> CatalogError {
        store_error(&self.path, e)
    }
}

fn store_error(path: &Path, e: impl Into<redb::Error>) -> CatalogError {
    CatalogError::Store { path: path.into(), source: e.into() }
}
