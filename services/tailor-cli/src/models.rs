//! `tailor models`: list the store's versions, activate one, or roll back, through the model
//! lifecycle, which announces each change on the models topic so running services swap to it.

use clap::Subcommand;
use tailor_models::{ModelLifecycle, ModelStore, Target};

use anyhow::Context;
use tailor_config::Config;

use crate::retrain::admin_route;
use tailor_config::{is_held_by_another_process, open_log, wire_format};

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Every version, its data window, training and evaluation figures; `*` marks the active one.
    List,
    /// Make VERSION the active model (refused if it does not load).
    Activate { version: u64 },
    /// Go back to the version active before the current one.
    Rollback,
}

pub fn run(config: &Config, command: ModelsCommand) -> anyhow::Result<()> {
    let store = ModelStore::open(&config.paths().models())?;
    if matches!(command, ModelsCommand::List) {
        return list(&store);
    }
    let log = match open_log(config) {
        Ok(log) => log,
        Err(error) if is_held_by_another_process(&error) => return delegate(config, &command),
        Err(error) => return Err(error.into()),
    };
    let target = match command {
        ModelsCommand::Activate { version } => Target::Version(version),
        ModelsCommand::Rollback => Target::Previous,
        ModelsCommand::List => unreachable!("listed above"),
    };
    let lifecycle = ModelLifecycle::new(store, log, wire_format(config), &config.events.models.name);
    // Loading it is the check here; each replica checks it against its catalogue as it swaps.
    let (manifest, ()) = lifecycle.activate(target, |_| Ok(()))?;
    println!("model version {} is active, and announced", manifest.version);
    Ok(())
}

fn list(store: &ModelStore) -> anyhow::Result<()> {
    for stored in store.list()? {
        let mark = if stored.active { '*' } else { ' ' };
        match stored.manifest {
            Ok(m) => println!(
                "{mark} v{} parent {:?} {} ratings from {} users; {} epochs on {} in {:.1} s, validation MSE {:.4}; new users k=3 NDCG@10 {}",
                m.version,
                m.parent,
                m.data.ratings,
                m.data.users,
                m.training.epochs,
                m.training.device,
                m.training.seconds,
                m.training.validation_mse,
                m.metrics.get("new_users.k3.ndcg_at_10").map_or("-".to_owned(), |v| format!("{v:.4}"))
            ),
            Err(error) => println!("{mark} v{}: {error}", stored.version),
        }
    }
    Ok(())
}

/// With the embedded log held by a running service, the change goes through its admin routes.
fn delegate(config: &Config, command: &ModelsCommand) -> anyhow::Result<()> {
    let route = match command {
        ModelsCommand::Activate { version } => format!("models/{version}/activate"),
        ModelsCommand::Rollback => "models/rollback".to_owned(),
        ModelsCommand::List => unreachable!("listing reads the store directly"),
    };
    let (url, bearer) = admin_route(config, &route)?;
    let answer: serde_json::Value = match ureq::post(&url).header("Authorization", &bearer).send_empty() {
        Ok(mut response) => response.body_mut().read_json()?,
        Err(ureq::Error::StatusCode(status)) => anyhow::bail!("{url} answered {status}; see `tailor models list`"),
        Err(error) => return Err(error).with_context(|| format!("asking {url}")),
    };
    println!("model version {} is active in the running service, and announced", answer["active"]);
    Ok(())
}
