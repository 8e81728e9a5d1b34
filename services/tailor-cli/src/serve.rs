//! `tailor serve`: the ranking service with the streaming consumer in the same process, on the
//! configured event log.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use tailor_catalog::CatalogStore;
use tailor_core::AggregateWeights;
use tailor_ranker::{Intake, Service, ServingCatalog, SessionKeys};
use tailor_stream::{ItemVectors, StreamConsumer, VisitorStates};

use crate::config::Config;
use crate::events::interactions_source;
use crate::stream::{consume, stop_on_signals};

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

pub fn run(config: &Config) -> anyhow::Result<()> {
    // Installed first, so the consumer's metrics are recorded from its first event.
    tailor_ranker::metrics::handle();
    let store = CatalogStore::open(&config.data_dir)
        .with_context(|| format!("opening the catalogue in {}", config.data_dir.display()))?;
    let items = store.load_all()?;
    let vectors_path = config.item_vectors_path();
    let vectors =
        Arc::new(ItemVectors::load(&vectors_path).with_context(|| {
            format!("loading item vectors from {} (run `tailor embed` first)", vectors_path.display())
        })?);
    let source = interactions_source(config)?;
    let visitors = Arc::new(VisitorStates::new(vectors.dim(), AggregateWeights::default()));
    let (mut consumer, snapshot) =
        StreamConsumer::start(source.clone(), visitors.clone(), vectors.clone(), &config.snapshot_path())?;
    let catalog = ServingCatalog::new(items, &vectors)?;
    println!(
        "serving {} items ({} with vectors, dimension {}); {} visitors restored",
        catalog.len(),
        catalog.matrix().len(),
        vectors.dim(),
        snapshot.map_or(0, |s| s.visitors)
    );
    let intake = Intake { log: source.log, wire: source.wire, topic: source.topic };
    let service = Arc::new(Service::new(catalog, visitors, intake, SessionKeys::new(session_secret(config)?)));

    let stop = stop_on_signals()?;
    let interval = Duration::from_millis(config.stream.snapshot_interval_ms);
    let consumer_stop = stop.clone();
    let consumer_thread = thread::spawn(move || consume(&mut consumer, &consumer_stop, interval, false));

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
        tailor_ranker::serve(service, listener, shutdown).await.context("serving HTTP")
    });
    // However serving ended, the consumer stops and writes its final snapshot.
    stop.store(true, Ordering::Relaxed);
    let consumed = consumer_thread.join().expect("the consumer thread does not panic")?;
    println!("stopped; applied {} events while serving", consumed.applied);
    served
}
