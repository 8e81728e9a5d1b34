//! The versioned model store: `vN/` directories, each complete before it appears (written to a
//! staging directory, synced, then renamed), and `active.json`, replaced atomically, naming the
//! version serving uses and the ones active before it, for rollback.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tailor_core::temporary_beside;

use crate::{ItemVectors, Manifest, ModelError, TwoTowerWeights};

const MANIFEST: &str = "manifest.json";
const TOWERS: &str = "towers.safetensors";
const ITEMS: &str = "items.safetensors";
const ACTIVE: &str = "active.json";
const TRAINING_LOCK: &str = "training.lock";

/// Which version serves, and which served before it, newest last.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct ActivePointer {
    version: u64,
    previous: Vec<u64>,
}

/// What the trainer hands over; the store assigns the version.
pub struct PublishedModel {
    pub manifest: Manifest,
    pub towers: TwoTowerWeights,
    /// The item tower's output for every item, the matrix serving ranks against.
    pub item_vectors: ItemVectors,
}

/// A version read back and checked.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    pub manifest: Manifest,
    pub towers: TwoTowerWeights,
    pub item_vectors: ItemVectors,
}

/// A version as `tailor models list` shows it.
#[derive(Debug)]
pub struct StoredVersion {
    pub version: u64,
    pub active: bool,
    pub manifest: Result<Manifest, ModelError>,
}

/// Held while a training run works; a second run fails at once instead of waiting.
pub struct TrainingLock {
    _file: File,
}

pub struct ModelStore {
    dir: PathBuf,
}

fn version_dir_name(version: u64) -> String {
    format!("v{version:06}")
}

fn sync_dir(dir: &Path) -> Result<(), ModelError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(ModelError::io(format!("syncing {}", dir.display())))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let mut file = File::create(path).map_err(ModelError::io(format!("creating {}", path.display())))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(ModelError::io(format!("writing {}", path.display())))
}

impl ModelStore {
    pub fn open(dir: &Path) -> Result<ModelStore, ModelError> {
        fs::create_dir_all(dir).map_err(ModelError::io(format!("creating {}", dir.display())))?;
        Ok(ModelStore { dir: dir.to_path_buf() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn version_dir(&self, version: u64) -> PathBuf {
        self.dir.join(version_dir_name(version))
    }

    /// Fails with [`ModelError::TrainingInProgress`] while another process trains.
    pub fn lock_training(&self) -> Result<TrainingLock, ModelError> {
        let path = self.dir.join(TRAINING_LOCK);
        let file = File::create(&path).map_err(ModelError::io(format!("creating {}", path.display())))?;
        file.try_lock().map_err(|_| ModelError::TrainingInProgress { path })?;
        Ok(TrainingLock { _file: file })
    }

    /// Every complete version, oldest first. Staging directories are not versions.
    pub fn versions(&self) -> Result<Vec<u64>, ModelError> {
        let entries = fs::read_dir(&self.dir).map_err(ModelError::io(format!("listing {}", self.dir.display())))?;
        let mut versions: Vec<u64> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str()?.strip_prefix('v')?.parse().ok())
            .collect();
        versions.sort_unstable();
        Ok(versions)
    }

    pub fn list(&self) -> Result<Vec<StoredVersion>, ModelError> {
        let active = self.active()?;
        Ok(self
            .versions()?
            .into_iter()
            .map(|version| StoredVersion { version, active: active == Some(version), manifest: self.manifest(version) })
            .collect())
    }

    pub fn manifest(&self, version: u64) -> Result<Manifest, ModelError> {
        let path = self.version_dir(version).join(MANIFEST);
        let corrupt = |reason: String| ModelError::Corrupt { version, reason };
        let text = fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound if !self.version_dir(version).exists() => ModelError::UnknownVersion(version),
            _ => corrupt(format!("{}: {e}", path.display())),
        })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| corrupt(format!("{}: {e}", path.display())))?;
        if manifest.version != version {
            return Err(corrupt(format!("its manifest says version {}", manifest.version)));
        }
        Ok(manifest)
    }

    /// Reads a version and checks that its parts fit together.
    pub fn load(&self, version: u64) -> Result<LoadedModel, ModelError> {
        let manifest = self.manifest(version)?;
        let dir = self.version_dir(version);
        let corrupt = |e: ModelError| ModelError::Corrupt { version, reason: e.to_string() };
        let towers = TwoTowerWeights::load(&dir.join(TOWERS)).map_err(corrupt)?;
        let item_vectors = ItemVectors::load(&dir.join(ITEMS)).map_err(corrupt)?;
        if item_vectors.dim() != towers.item.output() {
            return Err(ModelError::Corrupt {
                version,
                reason: format!(
                    "its item matrix has dimension {} but the towers output {}",
                    item_vectors.dim(),
                    towers.item.output()
                ),
            });
        }
        Ok(LoadedModel { manifest, towers, item_vectors })
    }

    /// Writes the next version and makes it active. Nothing of it is visible until it is
    /// complete; a crash leaves at most a staging directory, which later runs ignore.
    pub fn publish(&self, model: PublishedModel) -> Result<Manifest, ModelError> {
        let version = self.versions()?.last().map_or(1, |v| v + 1);
        let mut manifest = model.manifest;
        manifest.version = version;
        manifest.parent = self.active()?;
        let staging = self.dir.join(format!(".staging-{}-{}", version_dir_name(version), std::process::id()));
        fs::create_dir_all(&staging).map_err(ModelError::io(format!("creating {}", staging.display())))?;
        write_synced(&staging.join(TOWERS), &model.towers.to_bytes())?;
        model.item_vectors.save(&staging.join(ITEMS))?;
        File::open(staging.join(ITEMS))
            .and_then(|f| f.sync_all())
            .map_err(ModelError::io(format!("syncing {}", staging.join(ITEMS).display())))?;
        let json = serde_json::to_vec_pretty(&manifest).expect("manifests serialise");
        write_synced(&staging.join(MANIFEST), &json)?;
        sync_dir(&staging)?;
        let target = self.version_dir(version);
        fs::rename(&staging, &target).map_err(ModelError::io(format!(
            "moving {} to {}",
            staging.display(),
            target.display()
        )))?;
        sync_dir(&self.dir)?;
        self.activate(version)?;
        Ok(manifest)
    }

    pub fn active(&self) -> Result<Option<u64>, ModelError> {
        Ok(self.pointer()?.map(|p| p.version))
    }

    fn pointer(&self) -> Result<Option<ActivePointer>, ModelError> {
        let path = self.dir.join(ACTIVE);
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| ModelError::Io {
                context: format!("reading {}", path.display()),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ModelError::io(format!("reading {}", path.display()))(e)),
        }
    }

    fn set_pointer(&self, pointer: &ActivePointer) -> Result<(), ModelError> {
        let path = self.dir.join(ACTIVE);
        let temporary = temporary_beside(&path);
        write_synced(&temporary, &serde_json::to_vec(pointer).expect("pointer serialises"))?;
        fs::rename(&temporary, &path).map_err(ModelError::io(format!("replacing {}", path.display())))?;
        sync_dir(&self.dir)
    }

    /// Makes `version` the one serving uses, after checking it loads; a corrupt version is
    /// refused and the active one stays.
    pub fn activate(&self, version: u64) -> Result<LoadedModel, ModelError> {
        let model = self.load(version)?;
        let mut pointer = self.pointer()?.unwrap_or_default();
        if pointer.version != version {
            if pointer.version != 0 {
                pointer.previous.push(pointer.version);
            }
            pointer.version = version;
            self.set_pointer(&pointer)?;
        }
        Ok(model)
    }

    /// The version [`rollback`](Self::rollback) would go back to, changing nothing: the latest
    /// one active before the current one that still loads.
    pub fn rollback_target(&self) -> Result<u64, ModelError> {
        let pointer = self.pointer()?.ok_or(ModelError::NoActiveModel)?;
        let target = pointer.previous.iter().rev().copied().find(|&version| self.load(version).is_ok());
        target.ok_or(ModelError::NothingToRollBack(pointer.version))
    }

    /// Goes back to the version active before the current one, skipping any that no longer load.
    pub fn rollback(&self) -> Result<LoadedModel, ModelError> {
        self.rollback_to(self.rollback_target()?)
    }

    /// Goes back to `target`, an earlier active version; the ones after it leave the history.
    pub fn rollback_to(&self, target: u64) -> Result<LoadedModel, ModelError> {
        let mut pointer = self.pointer()?.ok_or(ModelError::NoActiveModel)?;
        let Some(position) = pointer.previous.iter().rposition(|&version| version == target) else {
            return Err(ModelError::NothingToRollBack(pointer.version));
        };
        let model = self.load(target)?;
        pointer.previous.truncate(position);
        pointer.version = target;
        self.set_pointer(&pointer)?;
        Ok(model)
    }
}
