//! `tailor ingest --publish`: the rows an ingestion changed, as item events for a running
//! system, appended to the items topic, or, while a running `tailor serve` holds the embedded
//! log, sent through its admin batch route.

use anyhow::Context;
use tailor_config::{Config, is_held_by_another_process, open_log};
use tailor_core::Item;
use tailor_events::{Event, ItemUpsert};
use tailor_log::{Message, now_ms};

use crate::retrain::admin_route;

/// Items per append or per request (the batch route takes at most 10,000).
const CHUNK: usize = 5_000;

/// Publishes `items` (the whole state of each); returns how many.
pub fn publish(config: &Config, items: &[Item]) -> anyhow::Result<usize> {
    if items.is_empty() {
        return Ok(0);
    }
    let upserts: Vec<ItemUpsert> = items
        .iter()
        .map(|item| ItemUpsert::of(item, item.image().map(|i| i.reference().to_owned()), now_ms()))
        .collect();
    match open_log(config) {
        Ok(log) => {
            let wire = tailor_config::wire_format(config);
            for chunk in upserts.chunks(CHUNK) {
                let messages = chunk
                    .iter()
                    .map(|u| Ok(Message::new(u.item_id.clone(), wire.encode(&Event::ItemUpsert(Box::new(u.clone())))?)))
                    .collect::<anyhow::Result<Vec<Message>>>()?;
                log.append(&config.events.items.name, messages)?;
            }
            println!("published {} changed items on {}", upserts.len(), config.events.items.name);
        }
        Err(error) if is_held_by_another_process(&error) => {
            let (url, bearer) = admin_route(config, "items:batch")?;
            for chunk in upserts.chunks(CHUNK) {
                let lines: Vec<String> = chunk.iter().map(|u| u.item_state().to_string()).collect();
                let report: serde_json::Value = ureq::post(&url)
                    .header("Authorization", &bearer)
                    .header("Content-Type", "text/plain")
                    .send(lines.join("\n"))
                    .with_context(|| format!("sending changed items to {url}"))?
                    .body_mut()
                    .read_json()?;
                println!("{url}: {report}");
            }
        }
        Err(error) => return Err(error.into()),
    }
    Ok(upserts.len())
}
