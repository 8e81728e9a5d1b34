//! `tailor embed --follow`: the embedder as a consumer of the items topic. Items whose content
//! (title, description, photo) is new are embedded as `tailor embed` embeds the catalogue (the
//! offline encoders, the saved joint space, the same fusion and fallback to the title when the
//! photo cannot be read), and their vectors published on the item-vectors topic, which every
//! replica follows. A change of price or stock alone is not embedded again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tailor_catalog::CatalogStore;
use tailor_config::Config;
use tailor_core::{Item, ItemId};
use tailor_embed::{
    CatalogueEmbedding, EfficientNetLite0, EmbedOptions, Extractor, FeatureCache, JointConfig, MiniLm, ModelFiles,
    Progress, SpaceChoice, Stage, best_device, embed_catalogue,
};
use tailor_events::{Event, ItemUpsert, ItemVector, WireFormat};
use tailor_log::{EventLog, Message, now_ms, read_to_end};
use tch::Device;

use crate::TrainerError;

/// Embeds items with the offline encoders and the joint space `tailor embed` saved.
pub struct ItemEmbedder {
    image: EfficientNetLite0,
    text: MiniLm,
    cache: FeatureCache,
    joint_path: std::path::PathBuf,
    options: EmbedOptions,
    device: Device,
}

impl ItemEmbedder {
    pub fn load(config: &Config) -> Result<ItemEmbedder, TrainerError> {
        let paths = config.paths();
        let joint_path = paths.joint_space();
        if !joint_path.is_file() {
            return Err(TrainerError::Data(format!(
                "no joint space at {}: run `tailor embed` first",
                joint_path.display()
            )));
        }
        let device = best_device();
        let models = ModelFiles::locate(config.embed.models_dir.as_deref())?;
        let options = EmbedOptions {
            image_weight: config.embed.image_weight,
            joint: JointConfig { dim: config.embed.dim, ..JointConfig::default() },
            ..EmbedOptions::default()
        };
        Ok(ItemEmbedder {
            image: EfficientNetLite0::load(&models.efficientnet, device)?,
            text: MiniLm::load(&models.minilm, device)?,
            cache: FeatureCache::open(&paths.feature_cache())?,
            joint_path,
            options,
            device,
        })
    }

    fn embed(&self, items: &[Item]) -> Result<CatalogueEmbedding, TrainerError> {
        let extractor = Extractor { photos: &self.image, texts: &self.text, cache: &self.cache };
        let space = SpaceChoice::Learned(&self.joint_path);
        Ok(embed_catalogue(items, &extractor, space, &self.options, self.device, &Quiet)?)
    }
}

struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: Stage, _: u64, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// The topics the embedder reads and writes.
pub struct EmbedTopics<'a> {
    pub log: &'a dyn EventLog,
    pub wire: &'a dyn WireFormat,
    pub items: &'a str,
    pub item_vectors: &'a str,
}

const POLL_BATCH: usize = 256;
/// How long reading the vectors already published waits for a partition that returns nothing.
const HISTORY_STALL: Duration = Duration::from_secs(10);
const POLL_TIMEOUT: Duration = Duration::from_millis(50);

/// Until `stop`: the items topic from its start, each item whose content has no vector yet
/// embedded and published; `report` hears of each batch.
pub fn follow_items(
    config: &Config,
    embedder: &ItemEmbedder,
    topics: &EmbedTopics<'_>,
    stop: &AtomicBool,
    report: &mut dyn FnMut(String),
) -> Result<(), TrainerError> {
    let mut embedded = embedded_content(config, topics)?;
    report(format!("following {}: {} items already have vectors", topics.items, embedded.len()));
    let partitions = topics.log.partitions(topics.items)?;
    let mut reader = topics.log.reader(topics.items, &vec![0; partitions as usize])?;
    while !stop.load(Ordering::Relaxed) {
        let mut latest: HashMap<String, ItemUpsert> = HashMap::new();
        for record in reader.poll(POLL_BATCH, POLL_TIMEOUT)? {
            // Removals and undecodable events are the replicas' to apply or dead-letter.
            if let Ok(Event::ItemUpsert(upsert)) = topics.wire.decode(&record.message.payload) {
                latest.insert(upsert.item_id.clone(), *upsert);
            }
        }
        let mut items = Vec::new();
        let mut contents = HashMap::new();
        for (id, upsert) in latest {
            let content = upsert.content();
            if embedded.get(&id) == Some(&content) {
                continue;
            }
            let attributes = upsert.raw_attributes();
            match tailor_catalog::check_item(&id, upsert.title, upsert.description, upsert.image, attributes, None) {
                Ok(accepted) => {
                    contents.insert(id, content);
                    items.push(accepted.item);
                }
                Err(reason) => report(format!("item {id:?} not embedded: {reason}")),
            }
        }
        if items.is_empty() {
            continue;
        }
        let embedding = embedder.embed(&items)?;
        let problems: HashMap<&ItemId, &String> =
            embedding.unreadable_images.iter().map(|(id, why)| (id, why)).collect();
        for (id, reason) in &embedding.rejected {
            report(format!("item {id} not embedded: {reason}"));
        }
        let dim = embedding.vectors.size()[1] as usize;
        let values = embedding.ids.len() * dim;
        let mut flat = vec![0f32; values];
        embedding.vectors.copy_data(&mut flat, values);
        let by_id: HashMap<&ItemId, &Item> = items.iter().map(|item| (item.id(), item)).collect();
        let mut messages = Vec::with_capacity(embedding.ids.len());
        for (id, vector) in embedding.ids.iter().zip(flat.chunks_exact(dim)) {
            let problem = problems.get(id).map(|why| (*why).clone());
            if let Some(why) = &problem {
                report(format!("item {id}: photo unusable, embedded from its text: {why}"));
            }
            let from_photo = by_id[id].image().is_some() && problem.is_none();
            let event = ItemVector {
                item_id: id.to_string(),
                content: contents[id.as_str()].clone(),
                vector: vector.to_vec(),
                from_photo,
                problem,
                timestamp_ms: now_ms(),
            };
            let payload = topics.wire.encode(&Event::ItemVector(Box::new(event)))?;
            messages.push(Message::new(id.as_str().as_bytes().to_vec(), payload));
        }
        let count = messages.len();
        topics.log.append(topics.item_vectors, messages)?;
        for id in &embedding.ids {
            embedded.insert(id.to_string(), contents[id.as_str()].clone());
        }
        report(format!("embedded and published {count} items"));
    }
    Ok(())
}

/// The content each item's latest vector was computed from: the catalogue `tailor embed`
/// embedded, then what the item-vectors topic holds.
fn embedded_content(config: &Config, topics: &EmbedTopics<'_>) -> Result<HashMap<String, String>, TrainerError> {
    let paths = config.paths();
    let base = tailor_models::ItemVectors::load(&paths.item_vectors())?;
    let mut embedded = HashMap::new();
    for item in CatalogStore::open(paths.root())?.load_all()? {
        if base.get(item.id().as_str()).is_some() {
            let image = item.image().map(|image| image.reference().to_owned());
            embedded.insert(item.id().to_string(), ItemUpsert::of(&item, image, 0).content());
        }
    }
    let read = read_to_end(topics.log, topics.item_vectors, HISTORY_STALL, &mut |record| {
        if let Ok(Event::ItemVector(vector)) = topics.wire.decode(&record.message.payload) {
            embedded.insert(vector.item_id, vector.content);
        }
    })?;
    if !read.complete() {
        // Items whose vector was not read are embedded again: wasted work, nothing wrong.
        eprintln!("warning: {} was not read to its end; some items may be embedded again", topics.item_vectors);
    }
    Ok(embedded)
}
