//! `tailor embed`: item vectors for the whole catalogue, written where the consumer and the
//! ranking service read them.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use tailor_catalog::CatalogStore;
use tailor_config::Config;
use tailor_embed::{
    Clip, EfficientNetLite0, EmbedOptions, Extractor, FeatureCache, JointConfig, MiniLm, ModelFiles, SpaceChoice,
    best_device, embed_catalogue, keep_freed_memory,
};

use tailor_trainer::pipeline::{EmbedTopics, ItemEmbedder, follow_items};

use crate::progress::Bar;

#[derive(Args)]
pub struct EmbedArgs {
    /// Train the joint space again, even though one is saved, and evaluate it.
    #[arg(long)]
    retrain: bool,
    /// Measure retrieval and article-type agreement even when nothing is trained.
    #[arg(long)]
    evaluate: bool,
    /// Which encoders: the offline pair (EfficientNet-Lite0 and MiniLM joined by trained heads),
    /// or CLIP from a Hugging Face model directory (--model-dir).
    #[arg(long, value_enum, default_value = "offline")]
    encoder: EncoderChoice,
    /// CLIP model directory: config.json, model.safetensors, tokenizer.json.
    #[arg(long, required_if_eq("encoder", "clip"))]
    model_dir: Option<PathBuf>,
    /// Instead of the whole catalogue: follow the items topic and publish the vectors of new and
    /// changed items on the item-vectors topic, until SIGINT or SIGTERM.
    #[arg(long, conflicts_with_all = ["retrain", "evaluate", "model_dir"])]
    follow: bool,
}

/// The embedder that follows the items topic, as `tailor serve` runs it beside serving.
pub fn follower(config: Config, embedder: ItemEmbedder) -> tailor_serve::Companion {
    Box::new(move |log, wire, stop| {
        let events = &config.events;
        let topics = EmbedTopics {
            log: log.as_ref(),
            wire: wire.as_ref(),
            items: &events.items.name,
            item_vectors: &events.item_vectors.name,
        };
        follow_items(&config, &embedder, &topics, &stop, &mut |line| println!("embedder: {line}"))
            .map_err(|e| e.to_string())
    })
}

fn follow(config: &Config) -> anyhow::Result<()> {
    let embedder = ItemEmbedder::load(config)?;
    let (log, wire) = (tailor_config::open_log(config)?, tailor_config::wire_format(config));
    let stop = tailor_stream::stop_on_signals()?;
    follower(config.clone(), embedder)(log, wire, stop).map_err(anyhow::Error::msg)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EncoderChoice {
    Offline,
    Clip,
}

pub fn run(config: &Config, args: EmbedArgs) -> anyhow::Result<()> {
    if args.follow {
        return follow(config);
    }
    let started = Instant::now();
    let store = CatalogStore::open(&config.data_dir)
        .with_context(|| format!("opening the catalogue in {}", config.data_dir.display()))?;
    let items = store.load_all()?;
    anyhow::ensure!(
        !items.is_empty(),
        "the catalogue in {} is empty: run `tailor ingest` first",
        config.data_dir.display()
    );
    keep_freed_memory();
    let device = best_device();
    let paths = config.paths();
    let cache = FeatureCache::open(&paths.feature_cache())?;
    println!("embedding {} items on {device:?}", items.len());

    let options = EmbedOptions {
        image_weight: config.embed.image_weight,
        joint: JointConfig { dim: config.embed.dim, ..JointConfig::default() },
        retrain: args.retrain,
        evaluate: args.evaluate,
        ..EmbedOptions::default()
    };
    let progress = Bar::default();
    let embedding = match (args.encoder, &args.model_dir) {
        (EncoderChoice::Clip, Some(dir)) => {
            let clip = Clip::load(dir, device).with_context(|| format!("loading CLIP from {}", dir.display()))?;
            let extractor = Extractor { photos: &clip, texts: &clip, cache: &cache };
            embed_catalogue(&items, &extractor, SpaceChoice::Shared, &options, device, &progress)?
        }
        (EncoderChoice::Clip, None) => unreachable!("clap requires --model-dir with --encoder clip"),
        (EncoderChoice::Offline, _) => {
            let models = ModelFiles::locate(config.embed.models_dir.as_deref())?;
            let image_encoder = EfficientNetLite0::load(&models.efficientnet, device)?;
            let text_encoder = MiniLm::load(&models.minilm, device)?;
            let extractor = Extractor { photos: &image_encoder, texts: &text_encoder, cache: &cache };
            let joint_path = paths.joint_space();
            embed_catalogue(&items, &extractor, SpaceChoice::Learned(&joint_path), &options, device, &progress)?
        }
    };

    for (id, reason) in &embedding.unreadable_images {
        eprintln!("item {id}: photo unusable, embedded from its text: {reason}");
    }
    for (id, reason) in &embedding.rejected {
        eprintln!("item {id}: rejected: {reason}");
    }
    let dim = embedding.vectors.size()[1] as usize;
    let output = paths.item_vectors();
    embedding.save(&output, &paths.text_only_vectors(), &paths.photo_only_vectors())?;

    let space = match embedding.temperature {
        Some(t) => format!("joint space {} (temperature {t:.4})", if embedding.trained { "trained" } else { "loaded" }),
        None => "CLIP's shared space".to_owned(),
    };
    println!(
        "computed {} photo and {} text features (the rest cached); {space}",
        embedding.computed_images, embedding.computed_texts
    );
    if let Some(evaluation) = &embedding.evaluation {
        match &evaluation.retrieval {
            Some(r) => println!(
                "held-out text-to-image retrieval ({} pairs; trained on {}): R@1 {:.3}, R@10 {:.3}, MRR {:.3}",
                r.queries, evaluation.training_pairs, r.recall_at_1, r.recall_at_10, r.mean_reciprocal_rank
            ),
            None => println!("no photo/text pair held out for evaluation (trained on {})", evaluation.training_pairs),
        }
        println!("nearest-neighbour article-type accuracy:");
        for (label, accuracy, count) in &evaluation.article_type_accuracy {
            println!("  {label:<48} {accuracy:.3} ({count} items)");
        }
    }
    println!(
        "wrote {} vectors of dimension {dim} to {} ({} rejected) in {:.1} s",
        embedding.ids.len(),
        output.display(),
        embedding.rejected.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
