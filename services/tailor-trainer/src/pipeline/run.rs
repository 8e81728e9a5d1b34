//! One training run on the configured data: read the log, train, evaluate against the baselines,
//! choose the blend serving will use, and publish the version through the model lifecycle (which
//! announces it).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Instant;

use tailor_config::Config;
use tailor_core::{Attributes, TextQuery};
use tailor_embed::best_device;
use tailor_engine::evaluation::Score;
use tailor_engine::{ActiveModel, EngineError};
use tailor_models::{
    DataWindow, ItemVectors, LoadedModel, Manifest, ModelLifecycle, PublishedModel, TrainConfig, TrainingSummary,
    TwoTowerWeights,
};

use super::inputs::TrainingInputs;
use super::{EVAL_SEED, REVEALED, metrics_of, persona_check, picks, served, text_encoder};
use crate::{EvalRow, Role, Split, TrainerError, evaluate, item_outputs, train};

/// What a run published, and its evaluation: the persona rows and the pick-consistency scores.
pub struct TrainingReport {
    pub manifest: Manifest,
    pub rows: Vec<EvalRow>,
    pub scores: Vec<Score>,
}

/// One training run: read, train, evaluate, publish, announce.
pub fn train_once(
    config: &Config,
    lifecycle: &ModelLifecycle,
    item_attributes: bool,
    say: &mut dyn FnMut(String),
) -> Result<TrainingReport, TrainerError> {
    let _lock = lifecycle.store().lock_training()?;
    let started = Instant::now();
    let inputs = TrainingInputs::load(config, lifecycle.log().as_ref())?;
    let counts = &inputs.dataset.counts;
    say(format!(
        "read {} events up to offsets {:?}: {} ratings from {} users over {} items ({} duplicates, {} for unknown items, {} with impossible timestamps, {} undecodable)",
        counts.events,
        inputs.interactions.end_offsets,
        counts.ratings,
        inputs.dataset.users.len(),
        inputs.items.len(),
        counts.duplicates,
        counts.unknown_items,
        counts.invalid_timestamps,
        inputs.interactions.undecodable
    ));
    if counts.ratings == 0 {
        return Err(TrainerError::Data(
            "the log holds no ratings yet: run `tailor personas generate` first".to_owned(),
        ));
    }
    let device = best_device();
    let train_config = TrainConfig { item_attributes, ..config.train.model.clone() };
    say(format!("training on {device:?} (item attributes: {item_attributes}, seed {})", train_config.seed));
    let attributes = inputs.attributes();
    let split = Split::default();
    let training_started = Instant::now();
    let trained = train(&inputs.dataset, &attributes, &split, &train_config, device, &mut |epoch| {
        say(format!(
            "  epoch {:>2}: MSE {:.4} / validation {:.4}, retrieval {:.4} / validation {:.4} ({:.0} ms)",
            epoch.epoch,
            epoch.train_mse,
            epoch.validation_mse,
            epoch.train_retrieval,
            epoch.validation_retrieval,
            epoch.millis
        ))
    })?;
    let training_seconds = training_started.elapsed().as_secs_f64();
    let best = &trained.epochs[trained.best_epoch as usize - 1];
    say(format!(
        "trained in {training_seconds:.1} s; kept epoch {} (validation MSE {:.4}, retrieval {:.4})",
        trained.best_epoch, best.validation_mse, best.validation_retrieval
    ));
    let rows = evaluate(
        &inputs.dataset,
        &attributes,
        &split,
        Some(&trained.weights),
        &inputs.modalities(config)?,
        &REVEALED,
        EVAL_SEED,
    )?;
    let item_vectors = model_item_vectors(&trained.weights, &inputs, &attributes)?;
    let mut manifest = Manifest {
        version: 0,
        parent: None,
        created_at_ms: tailor_log::now_ms(),
        code_revision: env!("TAILOR_REVISION").to_owned(),
        data: DataWindow {
            topic: config.events.interactions.name.clone(),
            end_offsets: inputs.interactions.end_offsets.clone(),
            events: counts.events,
            ratings: counts.ratings,
            users: inputs.dataset.users.len() as u64,
            items: inputs.items.len() as u64,
        },
        training: TrainingSummary {
            device: format!("{device:?}").to_lowercase(),
            seed: train_config.seed,
            item_attributes,
            epochs: trained.epochs.len() as u32,
            best_epoch: trained.best_epoch,
            epoch_ms: trained.epochs.iter().map(|e| e.millis).collect(),
            train_mse: best.train_mse,
            validation_mse: best.validation_mse,
            training_examples: trained.training_examples,
            seconds: training_seconds,
        },
        metrics: metrics_of(&rows),
        blend: None,
    };
    // The blend is chosen with the model as serving will run it, on validation data only: the
    // best on the validation cells of pick consistency among the blends that keep the served
    // ranking ahead of popularity for the persona evaluation's validation users. The figures
    // printed are the test cells' and the held-out users'.
    let catalog = picks::serving_catalog(config, inputs.items.clone(), &inputs.vectors)?;
    let loaded =
        LoadedModel { manifest: manifest.clone(), towers: trained.weights.clone(), item_vectors: item_vectors.clone() };
    let mut served = ActiveModel::new(&catalog, loaded)?;
    let blend = {
        let check = persona_check(config, &catalog, &served, &inputs.dataset, split);
        let mut validation = HashMap::new();
        let mut ahead_of_popularity = |picks: usize, weights| {
            let (cases, popular) = match validation.entry(picks) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => {
                    let cases = check
                        .cases(Role::Validation, picks)
                        .map_err(|e| EngineError::Internal(format!("evaluating pick consistency: {e}")))?;
                    let popular = check.popularity(&cases);
                    slot.insert((cases, popular))
                }
            };
            Ok(check.score(cases, picks, weights).ndcg_at_10 > *popular)
        };
        let encoder = text_encoder(config, say);
        let text = encoder.as_ref().map(|e| e as &dyn TextQuery);
        picks::evaluation(config, &catalog, Some(&served), &inputs.interactions.events, text, picks::TRIALS)
            .choose_blend(&mut ahead_of_popularity)?
    };
    say(format!(
        "served blend for free text alone, then 1-5 liked items: model weight {:?}, weight of the picks' shared attributes {:?}",
        blend.model_weight, blend.attribute_weight
    ));
    served.blend = blend.clone();
    let mut rows = rows;
    served::add_rows(&persona_check(config, &catalog, &served, &inputs.dataset, split), &REVEALED, &mut rows)?;
    let scores = picks::evaluation(config, &catalog, Some(&served), &inputs.interactions.events, None, picks::TRIALS)
        .evaluate()?;
    manifest.metrics.extend(picks::metrics(&scores));
    manifest.blend = Some(blend);
    let manifest = lifecycle.publish(PublishedModel { manifest, towers: trained.weights, item_vectors })?;
    say(format!(
        "published model version {} (parent {:?}) to {} and announced it on {} in {:.1} s",
        manifest.version,
        manifest.parent,
        lifecycle.store().version_dir(manifest.version).display(),
        config.events.models.name,
        started.elapsed().as_secs_f64()
    ));
    Ok(TrainingReport { manifest, rows, scores })
}

fn model_item_vectors(
    weights: &TwoTowerWeights,
    inputs: &TrainingInputs,
    attributes: &[&Attributes],
) -> Result<ItemVectors, TrainerError> {
    let outputs = item_outputs(weights, &inputs.dataset, attributes)?;
    let dim = weights.item.output();
    let mut vectors = ItemVectors::new(dim);
    for (item, row) in inputs.items.iter().zip(outputs.chunks_exact(dim)) {
        vectors.insert(item.id().clone(), tailor_core::Embedding::from_unit(row.to_vec(), dim)?)?;
    }
    Ok(vectors)
}
