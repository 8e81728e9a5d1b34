//! `tailor train` and `tailor eval`: the Two-Tower model trained on every event in the log up to
//! now, published as the next version of the model store and announced on the models topic; and
//! the offline cold-start evaluation against the baselines.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;
use std::thread;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use tailor_catalog::CatalogStore;
use tailor_core::{Attributes, Item};
use tailor_embed::best_device;
use tailor_engine::{ActiveModel, EngineError, ServingCatalog};
use tailor_log::EventLog;
use tailor_models::{DataWindow, LoadedModel, Manifest, ModelStore, PublishedModel, TrainingSummary, TwoTowerWeights};
use tailor_stream::ItemVectors;
use tailor_trainer::{Dataset, EvalRow, Method, ModalityVectors, Role, Split, evaluate, item_outputs, train};

use tailor_config::Config;
use tailor_config::{is_held_by_another_process, open_log, wire_format};
use tailor_core::TextQuery;
use tailor_embed::SharedFreeTextEncoder;

use crate::events::{Interactions, read_interactions};
use crate::picks;
use crate::retrain::delegate_to_service;
use crate::serve::free_text_encoder;
use crate::served::{self, PersonaCheck};

#[derive(Args)]
pub struct TrainArgs {
    /// Train the item tower on the content vector alone, without catalogue attributes.
    #[arg(long)]
    no_attributes: bool,
    /// Keep running and retrain on `train.every_ms` / `train.after_events`.
    #[arg(long)]
    watch: bool,
}

#[derive(Args)]
pub struct EvalArgs {
    /// The version to evaluate [default: the active one]; baselines only when there is none.
    #[arg(long)]
    version: Option<u64>,
    /// Where to write the figures as JSON [default: DATA_DIR/models/eval.json].
    #[arg(long)]
    output: Option<PathBuf>,
    /// Pick-consistency seeds per attribute group and number of picks.
    #[arg(long, default_value_t = picks::TRIALS)]
    trials: usize,
    /// Fail when the served ranking falls below the content baseline on pick consistency.
    #[arg(long)]
    check: bool,
}

/// How many revealed interactions the evaluation gives each held-out user.
const REVEALED: [usize; 4] = [0, 1, 3, 5];
const EVAL_SEED: u64 = 17;

/// The catalogue items that have content vectors, in id order, and the dataset over them.
struct TrainingInputs {
    items: Vec<Item>,
    vectors: ItemVectors,
    dataset: Dataset,
    interactions: Interactions,
}

impl TrainingInputs {
    fn load(config: &Config, log: &dyn EventLog) -> anyhow::Result<TrainingInputs> {
        let store = CatalogStore::open(&config.data_dir)
            .with_context(|| format!("opening the catalogue in {}", config.data_dir.display()))?;
        let path = config.paths().item_vectors();
        let vectors = ItemVectors::load(&path)
            .with_context(|| format!("loading item vectors from {} (run `tailor embed` first)", path.display()))?;
        let mut items: Vec<Item> =
            store.load_all()?.into_iter().filter(|i| vectors.get(i.id().as_str()).is_some()).collect();
        items.sort_by(|a, b| a.id().cmp(b.id()));
        let interactions = read_interactions(config, log, wire_format(config).as_ref())?;
        let content = items.iter().map(|i| (i.id().clone(), vectors.get(i.id().as_str()).expect("filtered").clone()));
        let dataset = Dataset::new(content.collect(), interactions.events.iter().cloned())?;
        Ok(TrainingInputs { items, vectors, dataset, interactions })
    }

    fn attributes(&self) -> Vec<&Attributes> {
        self.items.iter().map(Item::attributes).collect()
    }

    fn modalities(&self, config: &Config) -> anyhow::Result<ModalityVectors> {
        let load = |path: PathBuf| -> anyhow::Result<std::collections::HashMap<u32, tailor_core::Embedding>> {
            let vectors = ItemVectors::load(&path)
                .with_context(|| format!("loading {} (run `tailor embed` again to write it)", path.display()))?;
            Ok(self
                .items
                .iter()
                .enumerate()
                .filter_map(|(row, item)| Some((row as u32, vectors.get(item.id().as_str())?.clone())))
                .collect())
        };
        let paths = config.paths();
        Ok(ModalityVectors { text: load(paths.text_only_vectors())?, photo: load(paths.photo_only_vectors())? })
    }
}

fn metrics_of(rows: &[EvalRow]) -> std::collections::BTreeMap<String, f64> {
    rows.iter()
        .filter(|row| row.method == Method::TwoTower)
        .flat_map(|row| {
            let key = |metric: &str| format!("{}.k{}.{metric}", row.slice.name(), row.k);
            [
                (key("ndcg_at_10"), row.ndcg_at_10),
                (key("recall_at_10"), row.recall_at_10),
                (key("hit_rate_at_10"), row.hit_rate_at_10),
                (key("coverage"), row.coverage),
            ]
        })
        .collect()
}

fn persona_check<'a>(
    config: &Config,
    catalog: &'a ServingCatalog,
    model: &'a ActiveModel,
    dataset: &'a Dataset,
    split: Split,
) -> PersonaCheck<'a> {
    let max_k = REVEALED.iter().copied().max().unwrap_or(0);
    PersonaCheck { catalog, model, ranking: config.serve.ranking.clone(), dataset, split, max_k, seed: EVAL_SEED }
}

/// The free-text encoder, when `tailor embed` has made its joint space; without it free text is
/// neither tuned nor evaluated.
fn text_encoder(config: &Config) -> Option<SharedFreeTextEncoder> {
    match free_text_encoder(config) {
        Ok(encoder) => Some(encoder),
        Err(error) => {
            println!("free text is not evaluated: {error:#}");
            None
        }
    }
}

fn evaluation_error(error: anyhow::Error) -> EngineError {
    EngineError::Internal(format!("evaluating pick consistency: {error:#}"))
}

/// One training run: read, train, evaluate, publish, announce.
pub fn train_once(config: &Config, log: &dyn EventLog, item_attributes: bool) -> anyhow::Result<Manifest> {
    let store = ModelStore::open(&config.paths().models())?;
    let _lock = store.lock_training()?;
    let started = Instant::now();
    let inputs = TrainingInputs::load(config, log)?;
    let counts = &inputs.dataset.counts;
    println!(
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
    );
    anyhow::ensure!(counts.ratings > 0, "the log holds no ratings yet: run `tailor personas generate` first");
    let device = best_device();
    let train_config = tailor_trainer::TrainConfig { item_attributes, ..config.train.model.clone() };
    println!("training on {device:?} (item attributes: {item_attributes}, seed {})", train_config.seed);
    let attributes = inputs.attributes();
    let split = Split::default();
    let training_started = Instant::now();
    let trained = train(&inputs.dataset, &attributes, &split, &train_config, device, &mut |epoch| {
        println!(
            "  epoch {:>2}: MSE {:.4} / validation {:.4}, retrieval {:.4} / validation {:.4} ({:.0} ms)",
            epoch.epoch,
            epoch.train_mse,
            epoch.validation_mse,
            epoch.train_retrieval,
            epoch.validation_retrieval,
            epoch.millis
        )
    })?;
    let training_seconds = training_started.elapsed().as_secs_f64();
    let best = &trained.epochs[trained.best_epoch as usize - 1];
    println!(
        "trained in {training_seconds:.1} s; kept epoch {} (validation MSE {:.4}, retrieval {:.4})",
        trained.best_epoch, best.validation_mse, best.validation_retrieval
    );
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
                    let cases = check.cases(Role::Validation, picks).map_err(evaluation_error)?;
                    let popular = check.popularity(&cases);
                    slot.insert((cases, popular))
                }
            };
            Ok(check.score(cases, picks, weights).ndcg_at_10 > *popular)
        };
        let encoder = text_encoder(config);
        let text = encoder.as_ref().map(|e| e as &dyn TextQuery);
        picks::evaluation(config, &catalog, Some(&served), &inputs.interactions.events, text, picks::TRIALS)
            .choose_blend(&mut ahead_of_popularity)?
    };
    println!(
        "served blend for free text alone, then 1-5 liked items: model weight {:?}, weight of the picks' shared attributes {:?}",
        blend.model_weight, blend.attribute_weight
    );
    served.blend = blend.clone();
    let mut rows = rows;
    served::add_rows(&persona_check(config, &catalog, &served, &inputs.dataset, split), &REVEALED, &mut rows)?;
    let scores = picks::evaluation(config, &catalog, Some(&served), &inputs.interactions.events, None, picks::TRIALS)
        .evaluate()?;
    manifest.metrics.extend(picks::metrics(&scores));
    manifest.blend = Some(blend);
    let manifest = store.publish(PublishedModel { manifest, towers: trained.weights, item_vectors })?;
    tailor_ranker::announce(log, wire_format(config).as_ref(), &config.events.models.name, &store, &manifest)
        .map_err(anyhow::Error::msg)?;
    print_table(&rows);
    picks::print(&scores);
    println!(
        "published model version {} (parent {:?}) to {} and announced it on {} in {:.1} s",
        manifest.version,
        manifest.parent,
        store.version_dir(manifest.version).display(),
        config.events.models.name,
        started.elapsed().as_secs_f64()
    );
    Ok(manifest)
}

/// `tailor serve`'s retrains: the configured run, in the serving process.
pub struct InProcessTraining(pub Config);

impl tailor_serve::TrainingRun for InProcessTraining {
    fn train(&self, log: &dyn EventLog) -> Result<u64, String> {
        let config = &self.0;
        train_once(config, log, config.train.model.item_attributes).map(|m| m.version).map_err(|e| format!("{e:#}"))
    }
}

fn model_item_vectors(
    weights: &TwoTowerWeights,
    inputs: &TrainingInputs,
    attributes: &[&Attributes],
) -> anyhow::Result<ItemVectors> {
    let outputs = item_outputs(weights, &inputs.dataset, attributes)?;
    let dim = weights.item.output();
    let mut vectors = ItemVectors::new(dim);
    for (item, row) in inputs.items.iter().zip(outputs.chunks_exact(dim)) {
        vectors.insert(item.id().clone(), tailor_core::Embedding::from_unit(row.to_vec(), dim)?)?;
    }
    Ok(vectors)
}

pub fn run(config: &Config, args: TrainArgs) -> anyhow::Result<()> {
    let item_attributes = config.train.model.item_attributes && !args.no_attributes;
    let log = match open_log(config) {
        Ok(log) => log,
        Err(error) if is_held_by_another_process(&error) && !args.watch => {
            let version = delegate_to_service(config)?;
            println!("the service published model version {version}, and ranks with it");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    if !args.watch {
        return train_once(config, log.as_ref(), item_attributes).map(drop);
    }
    let (every, after) = (config.train.every_ms, config.train.after_events);
    anyhow::ensure!(
        every.is_some() || after.is_some(),
        "--watch needs train.every_ms or train.after_events (TAILOR_TRAIN__EVERY_MS, TAILOR_TRAIN__AFTER_EVENTS)"
    );
    let store = ModelStore::open(&config.paths().models())?;
    let interactions = &config.events.interactions.name;
    loop {
        let ends = log.end_offsets(interactions)?;
        if config.train.schedule().due(&store, &ends, tailor_log::now_ms())?
            && let Err(error) = train_once(config, log.as_ref(), item_attributes)
        {
            eprintln!("retraining failed (the active model stays): {error:#}");
        }
        thread::sleep(tailor_serve::SCHEDULE_CHECK);
    }
}

fn print_table(rows: &[EvalRow]) {
    println!(
        "{:<22} {:>2} {:<11} {:>6} {:>8} {:>10} {:>8} {:>9}",
        "slice", "k", "method", "users", "NDCG@10", "Recall@10", "HR@10", "coverage"
    );
    for row in rows {
        println!(
            "{:<22} {:>2} {:<11} {:>6} {:>8.4} {:>10.4} {:>8.4} {:>9.4}",
            row.slice.name(),
            row.k,
            row.method.name(),
            row.users,
            row.ndcg_at_10,
            row.recall_at_10,
            row.hit_rate_at_10,
            row.coverage
        );
    }
}

pub fn eval(config: &Config, args: EvalArgs) -> anyhow::Result<()> {
    let store = ModelStore::open(&config.paths().models())?;
    let version = match args.version {
        Some(version) => Some(version),
        None => store.active()?,
    };
    let model = version.map(|v| store.load(v)).transpose()?;
    let inputs = TrainingInputs::load(config, open_log(config)?.as_ref())?;
    let attributes = inputs.attributes();
    let started = Instant::now();
    let rows = evaluate(
        &inputs.dataset,
        &attributes,
        &Split::default(),
        model.as_ref().map(|m| &m.towers),
        &inputs.modalities(config)?,
        &REVEALED,
        EVAL_SEED,
    )?;
    let catalog = picks::serving_catalog(config, inputs.items.clone(), &inputs.vectors)?;
    let served = model.map(|loaded| ActiveModel::new(&catalog, loaded)).transpose()?;
    let mut rows = rows;
    if let Some(served) = &served {
        let check = persona_check(config, &catalog, served, &inputs.dataset, Split::default());
        served::add_rows(&check, &REVEALED, &mut rows)?;
    }
    match version {
        Some(v) => println!(
            "model version {v}, evaluated on the events in the log now ({:.1} s):",
            started.elapsed().as_secs_f64()
        ),
        None => println!("no model yet: baselines only ({:.1} s):", started.elapsed().as_secs_f64()),
    }
    print_table(&rows);

    let started = Instant::now();
    let encoder = text_encoder(config);
    let text = encoder.as_ref().map(|e| e as &dyn TextQuery);
    let evaluation =
        picks::evaluation(config, &catalog, served.as_ref(), &inputs.interactions.events, text, args.trials);
    let scores = evaluation.evaluate()?;
    if let Some(served) = &served {
        let blend = &served.blend;
        println!(
            "served blend for free text alone, then 1-5 liked items: model weight {:?}, weight of the picks' shared attributes {:?}",
            blend.model_weight, blend.attribute_weight
        );
    }
    picks::print(&scores);
    println!("({:.1} s)", started.elapsed().as_secs_f64());
    let output = args.output.unwrap_or_else(|| store.dir().join("eval.json"));
    let json =
        serde_json::json!({ "version": version, "revealed": REVEALED, "rows": rows, "pick_consistency": scores });
    std::fs::write(&output, serde_json::to_vec_pretty(&json)?)
        .with_context(|| format!("writing {}", output.display()))?;
    println!("wrote {}", output.display());
    let shortfalls = picks::shortfalls(&scores);
    if args.check && !shortfalls.is_empty() {
        anyhow::bail!("pick consistency: {}", shortfalls.join("; "));
    }
    Ok(())
}
