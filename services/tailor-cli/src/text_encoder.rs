//! `tailor text-encoder`: the embedder process that answers serving replicas' free-text queries
//! (`serve.text_encoder_url`), so the replicas need no libtorch.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use tailor_config::Config;
use tailor_ranker::{TEXT_VECTOR_ROUTE, serve_text_encoder};

use tailor_trainer::pipeline::free_text_encoder;

pub fn run(config: &Config) -> anyhow::Result<()> {
    let encoder = Arc::new(free_text_encoder(config)?);
    let stop = tailor_stream::stop_on_signals()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let addr = config.embed.text_encoder_addr;
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
        println!("answering free-text queries at http://{}{TEXT_VECTOR_ROUTE}", listener.local_addr()?);
        let shutdown = async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        serve_text_encoder(encoder, listener, shutdown).await.context("serving free-text queries")
    })
}
