//! `tailor train` and `tailor eval`: their arguments mapped to the trainer's pipelines
//! (`tailor_trainer::pipeline`), and what those report printed.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tailor_config::{Config, is_held_by_another_process, open_log, wire_format};
use tailor_models::{Manifest, ModelLifecycle, ModelStore, TrainingRun};
use tailor_trainer::pipeline::{REVEALED, TRIALS, evaluate_version, shortfalls, train_once};

use crate::report::{print_rows, print_scores};
use crate::retrain::delegate_to_service;

#[derive(Args)]
pub struct TrainArgs {
    /// Train the item tower on the content vector alone, without catalogue attributes.
    #[arg(long)]
    no_attributes: bool,
    /// Keep running: retrain on every request on the models topic (the admin route writes them)
    /// and on `train.every_ms` / `train.after_events`.
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
    #[arg(long, default_value_t = TRIALS)]
    trials: usize,
    /// Fail when the served ranking falls below the content baseline on pick consistency.
    #[arg(long)]
    check: bool,
}

/// A training run with the configured settings, printing as it goes.
pub struct ConfiguredTraining {
    pub config: Config,
    pub item_attributes: bool,
}

impl TrainingRun for ConfiguredTraining {
    fn train(&self, lifecycle: &ModelLifecycle) -> Result<Manifest, String> {
        let mut say = |line: String| println!("{line}");
        let report = train_once(&self.config, lifecycle, self.item_attributes, &mut say).map_err(|e| e.to_string())?;
        print_rows(&report.rows);
        print_scores(&report.scores);
        Ok(report.manifest)
    }
}

pub fn run(config: &Config, args: TrainArgs) -> anyhow::Result<()> {
    let log = match open_log(config) {
        Ok(log) => log,
        Err(error) if is_held_by_another_process(&error) && !args.watch => {
            let version = delegate_to_service(config)?;
            println!("the service published model version {version}, and ranks with it");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    let store = ModelStore::open(&config.paths().models())?;
    let lifecycle = ModelLifecycle::new(store, log.clone(), wire_format(config), &config.events.models.name);
    let item_attributes = config.train.model.item_attributes && !args.no_attributes;
    let training = ConfiguredTraining { config: config.clone(), item_attributes };
    if !args.watch {
        training.train(&lifecycle).map_err(anyhow::Error::msg)?;
        return Ok(());
    }
    let stop = tailor_stream::stop_on_signals()?;
    println!(
        "retraining on the requests on {}, and on the schedule: {}",
        config.events.models.name,
        config.train.schedule()
    );
    let interactions = &config.events.interactions.name;
    lifecycle.serve_retrains(&training, &config.train.schedule(), interactions, &stop)?;
    Ok(())
}

pub fn eval(config: &Config, args: EvalArgs) -> anyhow::Result<()> {
    let store = ModelStore::open(&config.paths().models())?;
    let log = open_log(config)?;
    let mut say = |line: String| println!("{line}");
    let report = evaluate_version(config, log.as_ref(), &store, args.version, args.trials, &mut say)?;
    match report.version {
        Some(v) => {
            println!("model version {v}, evaluated on the events in the log now ({:.1} s):", report.rows_seconds)
        }
        None => println!("no model yet: baselines only ({:.1} s):", report.rows_seconds),
    }
    print_rows(&report.rows);
    if let Some(blend) = &report.blend {
        println!(
            "served blend for free text alone, then 1-5 liked items: model weight {:?}, weight of the picks' shared attributes {:?}",
            blend.model_weight, blend.attribute_weight
        );
    }
    print_scores(&report.scores);
    println!("({:.1} s)", report.scores_seconds);
    let output = args.output.unwrap_or_else(|| store.dir().join("eval.json"));
    let json = serde_json::json!({
        "version": report.version, "revealed": REVEALED, "rows": report.rows, "pick_consistency": report.scores
    });
    std::fs::write(&output, serde_json::to_vec_pretty(&json)?)
        .with_context(|| format!("writing {}", output.display()))?;
    println!("wrote {}", output.display());
    let shortfalls = shortfalls(&report.scores);
    if args.check && !shortfalls.is_empty() {
        anyhow::bail!("pick consistency: {}", shortfalls.join("; "));
    }
    Ok(())
}
