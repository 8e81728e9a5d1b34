//! The serving process: the ranking service over HTTP with the streaming consumer in the same
//! process, on the configured event log, plus the model watcher that swaps in announced
//! versions. What runs libtorch (an in-process trainer, the free-text encoder) comes in through
//! [`Roles`], so the `tailor-serve` binary serves without it.

mod catalogue;
mod priority;
mod session_key;
mod watch;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tailor_catalog::CatalogStore;
use tailor_config::Config;
use tailor_core::{AggregateWeights, TextQuery};
use tailor_engine::ServingCatalog;
use tailor_models::{ModelLifecycle, ModelStore, TrainingRun};
use tailor_ranker::{Admin, Intake, ItemIntake, Service, SessionKeys};
use tailor_stream::{ItemVectors, StreamConsumer, VisitorStates, consume, stop_on_signals};
use thiserror::Error;

pub use catalogue::{CatalogueTopics, follow_catalogue};
pub use watch::follow_models;

#[derive(Debug, Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] tailor_config::ConfigError),
    #[error("opening the catalogue: {0}")]
    Catalog(#[from] tailor_catalog::CatalogError),
    #[error(transparent)]
    Models(#[from] tailor_models::ModelError),
    #[error(transparent)]
    Stream(#[from] tailor_stream::StreamError),
    #[error(transparent)]
    Engine(#[from] tailor_engine::EngineError),
    #[error("{0}")]
    Setting(String),
    #[error("the streaming consumer stopped; restart the service: {0}")]
    ConsumerStopped(tailor_stream::StreamError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

impl ServeError {
    fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
        let context = context.into();
        move |source| ServeError::Io { context, source }
    }
}

/// What this process adds beyond serving: each is `None` where the binary does not link libtorch.
#[derive(Default)]
pub struct Roles {
    /// Answers free-text queries: the encoder in process, or a client of an embedder process.
    pub text_query: Option<Box<dyn TextQuery>>,
    /// Acts on retrain requests and the schedule in this process (`tailor serve`); elsewhere
    /// the trainer process (`tailor train --watch`) does.
    pub trainer: Option<Arc<dyn TrainingRun>>,
    /// Embeds new items from the items topic in this process (`tailor serve`); elsewhere the
    /// embedder process (`tailor embed --follow`) does.
    pub embedder: Option<Companion>,
}

/// A job run beside serving, on this process's event log and wire format, until the flag is set.
pub type Companion = Box<
    dyn FnOnce(Arc<dyn tailor_log::EventLog>, Arc<dyn tailor_events::WireFormat>, Arc<AtomicBool>) -> Result<(), String>
        + Send,
>;

/// How long the service answers 503 on /healthz and /readyz after its consumer stopped, before
/// it exits with an error: long enough for probes and load balancers to see it.
const CONSUMER_FAILURE_DRAIN: Duration = Duration::from_secs(5);

/// Admin tokens shorter than this are refused at start-up: they guard retraining and model swaps.
const MIN_ADMIN_TOKEN_CHARS: usize = 24;

/// Serves until SIGINT or SIGTERM, or until the consumer fails.
pub fn run(config: &Config, roles: Roles) -> Result<(), ServeError> {
    check_settings(config)?;
    // Installed first, so the consumer's metrics are recorded from its first event.
    tailor_ranker::metrics::handle();
    let paths = config.paths();
    // Read and closed: an in-process retrain opens the catalogue again.
    let items = CatalogStore::open(paths.root())?.load_all()?;
    let vectors = Arc::new(
        ItemVectors::load(&paths.item_vectors())
            .map_err(|e| ServeError::Setting(format!("{e} (run `tailor embed` first)")))?,
    );
    let source = tailor_config::interactions_source(config)?;
    let visitors =
        Arc::new(VisitorStates::with_limits(vectors.dim(), AggregateWeights::default(), config.stream.limits));
    let (consumer, snapshot) =
        StreamConsumer::start(source.clone(), visitors.clone(), vectors.clone(), &config.snapshot_path())?;
    let mut consumer = consumer.with_trending(config.stream.trending)?;
    let catalog = ServingCatalog::new(items, &vectors, config.serve.search.clone())?;
    println!(
        "serving {} items ({} with vectors, dimension {}); {} visitors restored",
        catalog.len(),
        catalog.matrix().len(),
        vectors.dim(),
        snapshot.map_or(0, |s| s.visitors)
    );
    let (log, wire) = (source.log.clone(), source.wire.clone());
    let lifecycle = || -> Result<ModelLifecycle, ServeError> {
        let store = ModelStore::open(&paths.models())?;
        Ok(ModelLifecycle::new(store, log.clone(), wire.clone(), &config.events.models.name))
    };
    let timestamps = config.serve.timestamps.clone();
    let (catalogue_log, catalogue_wire) = (source.log.clone(), source.wire.clone());
    let catalogue_topics = CatalogueTopics {
        log: source.log.clone(),
        wire: source.wire.clone(),
        items: config.events.items.name.clone(),
        item_vectors: config.events.item_vectors.name.clone(),
        dead_letters: config.events.dead_letters.name.clone(),
    };
    let items =
        ItemIntake { log: source.log.clone(), wire: source.wire.clone(), topic: config.events.items.name.clone() };
    let intake = Intake { log: source.log, wire: source.wire, topic: source.topic, timestamps };
    let admin = Admin { token: config.serve.admin_token.clone(), lifecycle: lifecycle()?, retrains: Mutex::default() };
    let sessions = SessionKeys::new(session_key::session_secret(config)?, config.serve.session_ttl_ms);
    let mut service = Service::new(catalog, visitors, intake, sessions, admin);
    service.ranking = config.serve.ranking.clone();
    config.serve.rules.check().map_err(|e| ServeError::Setting(format!("serve.rules: {e}")))?;
    service.rules = config.serve.rules.clone();
    service.limits = config.serve.limits;
    service.text_query = roles.text_query;
    service.items = items;
    service.trending = consumer.trending().clone();
    if service.text_query.is_none() {
        println!("free-text queries are off: no text encoder (serve.text_encoder_url)");
    }
    let service = Arc::new(service);
    match service.admin.lifecycle.store().active()? {
        Some(version) => match service.load_version(version) {
            Ok(()) => println!("ranking with model version {version}"),
            Err(error) => eprintln!("model version {version} refused; ranking by content vectors: {error}"),
        },
        None => println!("no model yet (run `tailor train`): ranking by content vectors"),
    }
    let catalog = service.serving().catalog.clone();
    if catalog.search().wants_graph(catalog.matrix()) {
        // Content searches (similar items, visitors before a model) stay exact until it is done;
        // later snapshots share the graph.
        thread::spawn(move || match catalog.build_index() {
            Ok(()) => println!("approximate index over the content vectors ready"),
            Err(error) => eprintln!("content searches stay exact: {error}"),
        });
    }

    let stop = stop_on_signals()?;
    let watcher = {
        let (service, stop) = (service.clone(), stop.clone());
        thread::spawn(move || follow_models(&service, &stop))
    };
    let catalogue = {
        let (service, stop, vectors) = (service.clone(), stop.clone(), consumer.item_vectors().clone());
        thread::spawn(move || {
            priority::run_in_background();
            let followed = follow_catalogue(&service, &catalogue_topics, &vectors, &stop);
            if let Err(error) = &followed {
                eprintln!("the catalogue follower stopped: {error}; exiting in {CONSUMER_FAILURE_DRAIN:?}");
                let _ = service.consumer_failure.set(format!("the catalogue follower stopped: {error}"));
                thread::sleep(CONSUMER_FAILURE_DRAIN);
                stop.store(true, Ordering::Relaxed);
            }
            followed
        })
    };
    let embedder = roles.embedder.map(|embed| {
        let (log, wire, stop) = (catalogue_log.clone(), catalogue_wire.clone(), stop.clone());
        thread::spawn(move || {
            priority::run_in_background();
            if let Err(error) = embed(log, wire, stop) {
                eprintln!("the in-process embedder stopped; new items are not embedded: {error}");
            }
        })
    });
    let trainer = match roles.trainer {
        Some(run) => {
            let (lifecycle, schedule, stop) = (lifecycle()?, config.train.schedule(), stop.clone());
            let interactions = config.events.interactions.name.clone();
            Some(thread::spawn(move || lifecycle.serve_retrains(run.as_ref(), &schedule, &interactions, &stop)))
        }
        None => None,
    };
    let interval = Duration::from_millis(config.stream.snapshot_interval_ms);
    let consumer_thread = {
        let (service, stop) = (service.clone(), stop.clone());
        thread::spawn(move || {
            let consumed = consume(&mut consumer, &stop, interval, false);
            if let Err(error) = &consumed {
                // Serving on would answer with states that no longer follow events: say so on
                // /healthz and /readyz while probes look, then exit for the supervisor to restart.
                eprintln!("the streaming consumer stopped: {error}; exiting in {CONSUMER_FAILURE_DRAIN:?}");
                let _ = service.consumer_failure.set(error.to_string());
                thread::sleep(CONSUMER_FAILURE_DRAIN);
                stop.store(true, Ordering::Relaxed);
            }
            consumed
        })
    };

    let served = serve_http(config, service, &stop);
    // However serving ended, the consumer stops and writes its final snapshot.
    stop.store(true, Ordering::Relaxed);
    if let Some(trainer) = trainer
        && let Err(error) = trainer.join().expect("the trainer thread does not panic")
    {
        eprintln!("the in-process trainer stopped: {error}");
    }
    watcher.join().expect("the model watcher does not panic")?;
    catalogue.join().expect("the catalogue follower does not panic")?;
    if let Some(embedder) = embedder {
        embedder.join().expect("the embedder thread does not panic");
    }
    let consumed =
        consumer_thread.join().expect("the consumer thread does not panic").map_err(ServeError::ConsumerStopped)?;
    println!("stopped; applied {} events while serving", consumed.applied);
    served
}

fn check_settings(config: &Config) -> Result<(), ServeError> {
    if let Some(token) = &config.serve.admin_token {
        let chars = token.chars().count();
        if chars < MIN_ADMIN_TOKEN_CHARS {
            return Err(ServeError::Setting(format!(
                "serve.admin_token is {chars} characters long; use at least {MIN_ADMIN_TOKEN_CHARS} (e.g. `openssl rand -hex 16`)"
            )));
        }
    }
    if config.serve.session_ttl_ms <= 0 {
        return Err(ServeError::Setting("serve.session_ttl_ms must be positive".to_owned()));
    }
    Ok(())
}

/// HTTP until `stop` is set, with the built app at `/` when there is one.
fn serve_http(config: &Config, service: Arc<Service>, stop: &Arc<AtomicBool>) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Runtime::new().map_err(ServeError::io("starting the async runtime"))?;
    runtime.block_on(async {
        let addr = config.serve.addr;
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(ServeError::io(format!("listening on {addr}")))?;
        let local = listener.local_addr().map_err(ServeError::io("reading the listening address"))?;
        println!("listening on http://{local}");
        let shutdown = {
            let stop = stop.clone();
            async move {
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let app_dir = &config.serve.app_dir;
        let app = app_dir.join("index.html").is_file().then_some(app_dir.as_path());
        match app {
            Some(dir) => println!("serving the app from {} at http://{local}/", dir.display()),
            None => println!("no built app in {} (npm run build in frontend/): API only", app_dir.display()),
        }
        tailor_ranker::serve(service, app, listener, shutdown).await.map_err(ServeError::io("serving HTTP"))
    })
}
