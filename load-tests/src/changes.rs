//! `tailor-load item-changes`: a nightly diff's worth of catalogue changes, as `tailor ingest
//! --publish` sends them: `--count` items of a data directory's catalogue, each with its price
//! raised by `--raise` (one by default), produced straight into the items topic on Kafka
//! (`--brokers`) or sent through a running service's admin batch route (`--url`, for the
//! embedded log). Their content is unchanged, so the embedder leaves them alone and the replicas
//! apply them as attribute changes. Run it beside `tailor-load recommendations` to see what
//! applying them costs the requests.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use tailor_catalog::CatalogStore;
use tailor_core::{Attributes, Item, Price};
use tailor_events::{Event, ItemUpsert, SingleObject, WireFormat};
use tailor_log::kafka::{KafkaConfig, KafkaLog};
use tailor_log::{EventLog, Message, now_ms};

#[derive(clap::Args)]
pub struct Args {
    /// Kafka brokers on this machine (`host:port`, comma-separated).
    #[arg(long, conflicts_with = "url", required_unless_present = "url")]
    brokers: Option<String>,
    /// A running service, whose admin batch route takes the changes.
    #[arg(long)]
    url: Option<String>,
    /// The service's admin token, with `--url` [default: TAILOR_SERVE__ADMIN_TOKEN].
    #[arg(long, env = "TAILOR_SERVE__ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The data directory whose catalogue the service serves.
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 10_000)]
    count: usize,
    #[arg(long, default_value = "tailor.items")]
    topic: String,
    /// What each price is raised by, from the data directory's price. Sending the same raise
    /// again changes nothing (the items already have those prices): give each run its own.
    #[arg(long, default_value_t = 1.0)]
    raise: f64,
}

/// Messages per append.
const CHUNK: usize = 1_000;

pub fn run(args: Args) -> anyhow::Result<()> {
    let store = CatalogStore::open(&args.data_dir).context("opening the catalogue")?;
    let items = store.load_all()?;
    drop(store);
    let upserts = items
        .iter()
        .take(args.count)
        .map(|item| {
            let image = item.image().map(|image| image.reference().to_owned());
            Ok(ItemUpsert::of(&repriced(item, args.raise)?, image, now_ms()))
        })
        .collect::<anyhow::Result<Vec<ItemUpsert>>>()?;
    let started = Instant::now();
    match (&args.brokers, &args.url) {
        (Some(brokers), _) => {
            crate::check_loopback_brokers(brokers)?;
            let log = KafkaLog::connect(brokers, KafkaConfig::new("tailor-load")).context("connecting to Kafka")?;
            for chunk in upserts.chunks(CHUNK) {
                let messages = chunk
                    .iter()
                    .map(|u| {
                        Ok(Message::new(
                            u.item_id.as_str(),
                            SingleObject.encode(&Event::ItemUpsert(Box::new(u.clone())))?,
                        ))
                    })
                    .collect::<anyhow::Result<Vec<Message>>>()?;
                log.append(&args.topic, messages)?;
            }
        }
        (None, Some(url)) => {
            crate::check_loopback(url)?;
            let bearer = format!("Bearer {}", args.admin_token.as_deref().context("--url needs the admin token")?);
            for chunk in upserts.chunks(CHUNK) {
                let lines: Vec<String> = chunk.iter().map(|u| u.item_state().to_string()).collect();
                let response = ureq::post(&format!("{url}/v1/admin/items:batch"))
                    .header("authorization", &bearer)
                    .send(lines.join("\n"))?;
                anyhow::ensure!(response.status() == 202, "the batch route answered {}", response.status());
            }
        }
        (None, None) => unreachable!("clap requires --brokers or --url"),
    }
    println!("sent {} item changes in {:.2} s", upserts.len(), started.elapsed().as_secs_f64());
    Ok(())
}

fn repriced(item: &Item, raise: f64) -> anyhow::Result<Item> {
    let price = item.attributes().price.map_or(0.0, |p| p.value()) + raise;
    let attributes = Attributes { price: Some(Price::new(price)?), ..item.attributes().clone() };
    let (title, description) = (item.title().map(str::to_owned), item.description().map(str::to_owned));
    Ok(Item::new(item.id().clone(), title, description, item.image().cloned(), attributes)?)
}
