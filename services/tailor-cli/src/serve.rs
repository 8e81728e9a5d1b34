//! `tailor serve`: the all-in-one serving process. Beside what `tailor-serve` runs, it retrains
//! in process (on the admin route and the schedule) and answers free text with the encoder
//! loaded here, so one machine needs one command.

use std::sync::Arc;

use tailor_config::Config;
use tailor_core::TextQuery;
use tailor_serve::Roles;
use tailor_trainer::pipeline::{ItemEmbedder, free_text_encoder};

use crate::train::ConfiguredTraining;

pub fn run(config: &Config) -> anyhow::Result<()> {
    let text_query = match free_text_encoder(config) {
        Ok(encoder) => Some(Box::new(encoder) as Box<dyn TextQuery>),
        Err(error) => {
            println!("free-text queries are off: {error:#}");
            None
        }
    };
    let item_attributes = config.train.model.item_attributes;
    let trainer = Some(Arc::new(ConfiguredTraining { config: config.clone(), item_attributes }) as _);
    let embedder = match ItemEmbedder::load(config) {
        Ok(embedder) => Some(crate::embed::follower(config.clone(), embedder)),
        Err(error) => {
            println!("new items are not embedded in this process: {error}");
            None
        }
    };
    tailor_serve::run(config, Roles { text_query, trainer, embedder })?;
    Ok(())
}
