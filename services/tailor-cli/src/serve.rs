//! `tailor serve`: the all-in-one serving process. Beside what `tailor-serve` runs, it retrains
//! in process (on the admin route and the schedule) and answers free text with the encoder
//! loaded here, so one machine needs one command.

use std::sync::Arc;

use tailor_config::Config;
use tailor_core::TextQuery;
use tailor_embed::{FreeTextEncoder, SharedFreeTextEncoder};
use tailor_serve::Roles;

use crate::train::InProcessTraining;

/// The free-text encoder over `tailor embed`'s joint space, when it loads.
pub fn free_text_encoder(config: &Config) -> anyhow::Result<SharedFreeTextEncoder> {
    let paths = config.paths();
    let encoder = FreeTextEncoder::load(&paths.joint_space(), config.embed.models_dir.as_deref(), config.embed.dim)?;
    Ok(SharedFreeTextEncoder::new(encoder))
}

pub fn run(config: &Config) -> anyhow::Result<()> {
    let text_query = match free_text_encoder(config) {
        Ok(encoder) => Some(Box::new(encoder) as Box<dyn TextQuery>),
        Err(error) => {
            println!("free-text queries are off: {error:#}");
            None
        }
    };
    let trainer = Some(Arc::new(InProcessTraining(config.clone())) as _);
    tailor_serve::run(config, Roles { text_query, trainer })?;
    Ok(())
}
