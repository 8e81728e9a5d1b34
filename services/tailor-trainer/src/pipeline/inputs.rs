//! What training and evaluation read: every interaction in the log up to now, and the catalogue
//! items that have content vectors, in id order, with the dataset over them.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use tailor_catalog::CatalogStore;
use tailor_config::{Config, wire_format};
use tailor_core::{Attributes, Embedding, Item};
use tailor_events::{Event, Interaction, WireFormat};
use tailor_log::{EventLog, read_to_end};
use tailor_models::ItemVectors;

use crate::{Dataset, ModalityVectors, TrainerError};

/// Every interaction in the log up to its end when called, the end offsets (the data window),
/// and how many messages could not be decoded (left out, counted).
pub struct Interactions {
    pub events: Vec<Interaction>,
    pub end_offsets: BTreeMap<u32, u64>,
    pub undecodable: u64,
}

/// Reading stops when a partition makes no progress for this long before its recorded end.
const READ_STALL: Duration = Duration::from_secs(30);

pub fn read_interactions(
    config: &Config,
    log: &dyn EventLog,
    wire: &dyn WireFormat,
) -> Result<Interactions, TrainerError> {
    let topic = &config.events.interactions.name;
    let mut read = Interactions { events: Vec::new(), end_offsets: BTreeMap::new(), undecodable: 0 };
    let reached = read_to_end(log, topic, READ_STALL, &mut |record| match wire.decode(&record.message.payload) {
        Ok(Event::Interaction(interaction)) => read.events.push(interaction),
        Ok(_) | Err(_) => read.undecodable += 1,
    })?;
    if !reached.complete() {
        return Err(TrainerError::Data(format!(
            "reading {topic}: stuck at offsets {:?} before the ends {:?}",
            reached.reached, reached.ends
        )));
    }
    read.end_offsets = reached.ends.iter().enumerate().map(|(p, &end)| (p as u32, end)).collect();
    Ok(read)
}

pub struct TrainingInputs {
    pub items: Vec<Item>,
    pub vectors: ItemVectors,
    pub dataset: Dataset,
    pub interactions: Interactions,
}

/// `path`'s item vectors, with what to run when they are missing.
fn item_vectors(path: PathBuf, remedy: &str) -> Result<ItemVectors, TrainerError> {
    ItemVectors::load(&path)
        .map_err(|source| TrainerError::Input { context: format!("loading {} ({remedy})", path.display()), source })
}

impl TrainingInputs {
    pub fn load(config: &Config, log: &dyn EventLog) -> Result<TrainingInputs, TrainerError> {
        let store = CatalogStore::open(&config.data_dir)?;
        let vectors = item_vectors(config.paths().item_vectors(), "run `tailor embed` first")?;
        let mut items: Vec<Item> =
            store.load_all()?.into_iter().filter(|i| vectors.get(i.id().as_str()).is_some()).collect();
        items.sort_by(|a, b| a.id().cmp(b.id()));
        let interactions = read_interactions(config, log, wire_format(config).as_ref())?;
        let content = items.iter().map(|i| (i.id().clone(), vectors.get(i.id().as_str()).expect("filtered").clone()));
        let dataset = Dataset::new(content.collect(), interactions.events.iter().cloned())?;
        Ok(TrainingInputs { items, vectors, dataset, interactions })
    }

    pub fn attributes(&self) -> Vec<&Attributes> {
        self.items.iter().map(Item::attributes).collect()
    }

    /// Each item's vector from its title alone and from its photo alone, for the baselines.
    pub fn modalities(&self, config: &Config) -> Result<ModalityVectors, TrainerError> {
        let by_row = |vectors: ItemVectors| -> HashMap<u32, Embedding> {
            let rows = self.items.iter().enumerate();
            rows.filter_map(|(row, item)| Some((row as u32, vectors.get(item.id().as_str())?.clone()))).collect()
        };
        let paths = config.paths();
        let again = "run `tailor embed` again to write it";
        Ok(ModalityVectors {
            text: by_row(item_vectors(paths.text_only_vectors(), again)?),
            photo: by_row(item_vectors(paths.photo_only_vectors(), again)?),
        })
    }
}
