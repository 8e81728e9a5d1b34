//! `tailor embed`: item vectors for the whole catalogue, written where the consumer and the
//! ranking service read them.

use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use tailor_catalog::CatalogStore;
use tailor_core::Embedding;
use tailor_embed::{
    Clip, EfficientNetLite0, EmbedOptions, Extractor, FeatureCache, JointConfig, MiniLm, ModelFiles, Progress,
    SpaceChoice, Stage, best_device, embed_catalogue, keep_freed_memory,
};
use tailor_stream::ItemVectors;

use tailor_config::Config;

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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EncoderChoice {
    Offline,
    Clip,
}

/// Shows each stage as a bar with items/s and the time left; where stderr is not a terminal (a
/// log file, CI), a line at every tenth of the way instead.
struct Bar(Mutex<Option<ProgressBar>>);

fn log_line(bar: &ProgressBar) {
    let eta = bar.eta().as_secs();
    eprintln!(
        "{} {}/{} ({:.0}/s, ETA {}m{:02}s)",
        bar.message(),
        bar.position(),
        bar.length().unwrap_or(0),
        bar.per_sec(),
        eta / 60,
        eta % 60
    );
}

impl Progress for Bar {
    fn start(&self, stage: Stage, total: u64, cached: u64) {
        let name = match stage {
            Stage::Texts => "texts ",
            Stage::Photos => "photos",
        };
        let bar = ProgressBar::new(total).with_message(format!("{name} ({cached} cached)"));
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_position(cached);
        bar.reset_eta();
        *self.0.lock().expect("progress lock") = Some(bar);
    }

    fn advance(&self, count: u64) {
        if let Some(bar) = self.0.lock().expect("progress lock").as_ref() {
            let tenth = bar.length().unwrap_or(0).div_ceil(10).max(1);
            let before = bar.position() / tenth;
            bar.inc(count);
            if bar.is_hidden() && bar.position() / tenth > before {
                log_line(bar);
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.0.lock().expect("progress lock").take() {
            bar.finish();
            if bar.is_hidden() {
                log_line(&bar);
            }
        }
    }
}

fn item_vectors(ids: &[tailor_core::ItemId], matrix: &tch::Tensor) -> anyhow::Result<ItemVectors> {
    let dim = matrix.size().get(1).copied().unwrap_or(0) as usize;
    let mut vectors = ItemVectors::new(dim);
    let count = ids.len() * dim;
    let mut flat = vec![0f32; count];
    matrix.copy_data(&mut flat, count);
    for (id, row) in ids.iter().zip(flat.chunks_exact(dim.max(1))) {
        vectors.insert(id.clone(), Embedding::new(row.to_vec(), dim)?)?;
    }
    Ok(vectors)
}

pub fn run(config: &Config, args: EmbedArgs) -> anyhow::Result<()> {
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
    let progress = Bar(Mutex::new(None));
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
    item_vectors(&embedding.ids, &embedding.vectors)?.save(&output)?;
    // Items embedded from one modality alone, for the cold-start evaluation's baselines.
    let single_modality =
        [(paths.text_only_vectors(), &embedding.text_only), (paths.photo_only_vectors(), &embedding.photo_only)];
    for (path, (ids, vectors)) in single_modality {
        item_vectors(ids, vectors)?.save(&path)?;
    }

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
