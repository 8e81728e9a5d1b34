//! `tailor serve`: the ranking service with the streaming consumer in the same process, on the
//! configured event log.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use std::sync::atomic::AtomicBool;
use tailor_catalog::CatalogStore;
use tailor_core::AggregateWeights;

use tailor_events::Event;
use tailor_log::EventLog;
use tailor_models::ModelStore;
use tailor_ranker::{Admin, Intake, Retrainer, Service, ServingCatalog, SessionKeys};
use tailor_stream::{ItemVectors, StreamConsumer, VisitorStates};

use crate::config::Config;
use crate::events::interactions_source;
use crate::retrain::{InProcessRetrainer, retrain_due};
use crate::stream::{consume, stop_on_signals};
use crate::text::{JointTextEncoder, SharedTextEncoder};
use crate::train::SCHEDULE_CHECK;

/// The key that signs session tokens: `serve.session_secret`, or one generated on first start and
/// kept in `DATA_DIR/session.key` (readable by its owner only), so tokens survive restarts.
fn session_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.serve.session_secret {
        anyhow::ensure!(secret.len() >= 16, "serve.session_secret must be at least 16 characters");
        return Ok(secret.as_bytes().to_vec());
    }
    let path = config.data_dir.join("session.key");
    match std::fs::read(&path) {
        Ok(secret) if secret.len() >= 32 => Ok(secret),
        Ok(_) => anyhow::bail!("{} is shorter than 32 bytes; delete it to have a new one made", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let secret: [u8; 32] = rand::random();
            std::fs::create_dir_all(&config.data_dir)?;
            let mut file = std::fs::OpenOptions::new()
                .create_new(true)
                .write(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            file.write_all(&secret).with_context(|| format!("writing {}", path.display()))?;
            Ok(secret.to_vec())
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Swaps in each version announced on the models topic, from announcements made after start-up
/// (the store's active version is loaded before this starts).
fn watch_models(service: &Service, log: &dyn EventLog, config: &Config, stop: &AtomicBool) -> anyhow::Result<()> {
    let topic = &config.events.models.name;
    let mut reader = log.reader(topic, &log.end_offsets(topic)?)?;
    while !stop.load(Ordering::Relaxed) {
        for record in reader.poll(16, Duration::from_millis(200))? {
            let version = match service.intake.wire.decode(&record.message.payload) {
                Ok(Event::ModelPublished(published)) => published.version as u64,
                Ok(_) | Err(_) => {
                    eprintln!(
                        "{topic}: skipping a message that is not a model-published event at offset {}",
                        record.offset
                    );
                    continue;
                }
            };
            if service.model.load().as_ref().is_some_and(|m| m.version == version) {
                continue;
            }
            match service.load_version(version) {
                Ok(()) => println!("swapped in model version {version}"),
                Err(error) => eprintln!("model version {version} refused, the current one stays: {error}"),
            }
        }
    }
    Ok(())
}

/// Starts a retrain whenever the schedule says so.
fn schedule_retrains(
    config: &Config,
    store: &ModelStore,
    log: &dyn EventLog,
    retrainer: &dyn Retrainer,
    stop: &AtomicBool,
) {
    let mut last_check = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(200));
        if last_check.elapsed() < SCHEDULE_CHECK {
            continue;
        }
        last_check = std::time::Instant::now();
        match retrain_due(config, store, log) {
            Ok(true) => match retrainer.start() {
                Ok(()) => println!("scheduled retrain started"),
                Err(tailor_ranker::RetrainRefused::AlreadyRunning) => {}
                Err(tailor_ranker::RetrainRefused::CannotStart(reason)) => {
                    eprintln!("cannot start a retrain: {reason}")
                }
            },
            Ok(false) => {}
            Err(error) => eprintln!("cannot check the retrain schedule: {error:#}"),
        }
    }
}

/// How long `tailor serve` answers 503 on /healthz and /readyz after its consumer stopped, before
/// it exits with an error: long enough for probes and load balancers to see it.
const CONSUMER_FAILURE_DRAIN: Duration = Duration::from_secs(5);

/// Admin tokens shorter than this are refused at start-up: they guard retraining and model swaps.
const MIN_ADMIN_TOKEN_CHARS: usize = 24;

pub fn run(config: &Config) -> anyhow::Result<()> {
    if let Some(token) = &config.serve.admin_token {
        anyhow::ensure!(
            token.chars().count() >= MIN_ADMIN_TOKEN_CHARS,
            "serve.admin_token is {} characters long; use at least {MIN_ADMIN_TOKEN_CHARS} (e.g. `openssl rand -hex 16`)",
            token.chars().count()
        );
    }
    // Installed first, so the consumer's metrics are recorded from its first event.
    tailor_ranker::metrics::handle();
    // Read and closed: an in-process retrain opens the catalogue again.
    let items = CatalogStore::open(&config.data_dir)
        .with_context(|| format!("opening the catalogue in {}", config.data_dir.display()))?
        .load_all()?;
    let vectors_path = config.item_vectors_path();
    let vectors =
        Arc::new(ItemVectors::load(&vectors_path).with_context(|| {
            format!("loading item vectors from {} (run `tailor embed` first)", vectors_path.display())
        })?);
    let source = interactions_source(config)?;
    let visitors =
        Arc::new(VisitorStates::with_limits(vectors.dim(), AggregateWeights::default(), config.stream.limits));
    let (mut consumer, snapshot) =
        StreamConsumer::start(source.clone(), visitors.clone(), vectors.clone(), &config.snapshot_path())?;
    let catalog = ServingCatalog::new(items, &vectors, config.serve.search.clone())?;
    println!(
        "serving {} items ({} with vectors, dimension {}); {} visitors restored",
        catalog.len(),
        catalog.matrix().len(),
        vectors.dim(),
        snapshot.map_or(0, |s| s.visitors)
    );
    let log = source.log.clone();
    let timestamps = config.serve.timestamps.clone();
    let intake = Intake { log: source.log, wire: source.wire, topic: source.topic, timestamps };
    let retrainer = Arc::new(InProcessRetrainer::new(config, log.clone()));
    let admin = Admin {
        token: config.serve.admin_token.clone(),
        store: ModelStore::open(&config.models_dir())?,
        retrainer: retrainer.clone(),
        models_topic: config.events.models.name.clone(),
    };
    anyhow::ensure!(config.serve.session_ttl_ms > 0, "serve.session_ttl_ms must be positive");
    let sessions = SessionKeys::new(session_secret(config)?, config.serve.session_ttl_ms);
    let mut service = Service::new(catalog, visitors, intake, sessions, admin);
    service.ranking = config.serve.ranking.clone();
    service.limits = config.serve.limits;
    match JointTextEncoder::load(config) {
        Ok(encoder) => service.text_query = Some(Box::new(SharedTextEncoder(std::sync::Mutex::new(encoder)))),
        Err(error) => println!("free-text queries are off: {error:#}"),
    }
    let service = Arc::new(service);
    match service.admin.store.active()? {
        Some(version) => match service.load_version(version) {
            Ok(()) => println!("ranking with model version {version}"),
            Err(error) => eprintln!("model version {version} refused; ranking by content vectors: {error}"),
        },
        None => println!("no model yet (run `tailor train`): ranking by content vectors"),
    }

    if service.catalog.search().wants_graph(service.catalog.matrix()) {
        let service = service.clone();
        // Content searches (similar items, visitors before a model) stay exact until it is done.
        thread::spawn(move || match service.catalog.build_index() {
            Ok(()) => println!("approximate index over the content vectors ready"),
            Err(error) => eprintln!("content searches stay exact: {error}"),
        });
    }

    let stop = stop_on_signals()?;
    let watcher = {
        let (service, log, config, stop) = (service.clone(), log.clone(), config.clone(), stop.clone());
        thread::spawn(move || watch_models(&service, log.as_ref(), &config, &stop))
    };
    let scheduler = (config.train.every_ms.is_some() || config.train.after_events.is_some()).then(|| {
        let (log, config, stop) = (log.clone(), config.clone(), stop.clone());
        let store = ModelStore::open(&config.models_dir());
        thread::spawn(move || match store {
            Ok(store) => schedule_retrains(&config, &store, log.as_ref(), retrainer.as_ref(), &stop),
            Err(error) => eprintln!("no retrain schedule: {error}"),
        })
    });
    let interval = Duration::from_millis(config.stream.snapshot_interval_ms);
    let consumer_thread = {
        let (service, stop) = (service.clone(), stop.clone());
        thread::spawn(move || {
            let consumed = consume(&mut consumer, &stop, interval, false);
            if let Err(error) = &consumed {
                // Serving on would answer with states that no longer follow events: say so on
                // /healthz and /readyz while probes look, then exit for the supervisor to restart.
                eprintln!("the streaming consumer stopped: {error:#}; exiting in {CONSUMER_FAILURE_DRAIN:?}");
                let _ = service.consumer_failure.set(format!("{error:#}"));
                thread::sleep(CONSUMER_FAILURE_DRAIN);
                stop.store(true, Ordering::Relaxed);
            }
            consumed
        })
    };

    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.serve.addr)
            .await
            .with_context(|| format!("listening on {}", config.serve.addr))?;
        println!("listening on http://{}", listener.local_addr()?);
        let shutdown = {
            let stop = stop.clone();
            async move {
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let app = config.serve.app_dir.join("index.html").is_file().then_some(config.serve.app_dir.as_path());
        match app {
            Some(dir) => println!("serving the app from {} at http://{}/", dir.display(), listener.local_addr()?),
            None => {
                println!("no built app in {} (npm run build in frontend/): API only", config.serve.app_dir.display())
            }
        }
        tailor_ranker::serve(service, app, listener, shutdown).await.context("serving HTTP")
    });
    // However serving ended, the consumer stops and writes its final snapshot.
    stop.store(true, Ordering::Relaxed);
    if let Some(scheduler) = scheduler {
        scheduler.join().expect("the scheduler thread does not panic");
    }
    watcher.join().expect("the model watcher does not panic")?;
    let consumed = consumer_thread
        .join()
        .expect("the consumer thread does not panic")
        .context("the streaming consumer stopped; restart the service")?;
    println!("stopped; applied {} events while serving", consumed.applied);
    served
}
