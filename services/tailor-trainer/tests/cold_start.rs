//! On real catalogue data, a small Two-Tower model beats the popularity baseline for held-out
//! users. Items are a slice of the Myntra catalogue with their real attributes; their vectors
//! come from the real MiniLM text encoder (titles), and persona descriptions are embedded the
//! same way; ratings are the shipped personas' synthetic ratings.

use std::path::{Path, PathBuf};

use tailor_catalog::{CatalogStore, SourceFormat, ingest};
use tailor_core::{Embedding, Item};
use tailor_embed::{MiniLm, ModelFiles};
use tailor_personas::{CatalogueItem, DEFAULT_PERSONAS, GenerateOptions, PersonaFile, generate};
use tailor_trainer::{Dataset, Method, ModalityVectors, Slice, Split, TrainConfig, evaluate, train};
use tch::Device;

fn myntra_dir() -> PathBuf {
    let dir = std::env::var_os("TAILOR_MYNTRA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/myntra"));
    assert!(dir.join("styles.csv").is_file(), "Myntra data not found at {}: set TAILOR_MYNTRA_DIR", dir.display());
    dir
}

fn embed_texts(encoder: &MiniLm, texts: &[&str]) -> Vec<Embedding> {
    texts
        .chunks(256)
        .flat_map(|chunk| {
            let features = encoder.embed(chunk).unwrap();
            let dim = features.size()[1] as usize;
            let mut flat = vec![0f32; chunk.len() * dim];
            features.copy_data(&mut flat, chunk.len() * dim);
            flat.chunks_exact(dim).map(|row| Embedding::new(row.to_vec(), dim).unwrap()).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn two_tower_beats_popularity_for_new_users() {
    let dir = tempfile::tempdir().unwrap();
    let store = CatalogStore::open(dir.path()).unwrap();
    ingest(&myntra_dir(), SourceFormat::Myntra, &store).unwrap();
    let mut items: Vec<Item> = store.load_all().unwrap().into_iter().filter(|i| i.title().is_some()).collect();
    items.sort_by(|a, b| a.id().cmp(b.id()));
    // Every eighth item: about 5,500, every category represented.
    let items: Vec<Item> = items.into_iter().step_by(8).collect();
    let encoder = MiniLm::load(&ModelFiles::locate(None).unwrap().minilm, Device::Cpu).unwrap();
    let titles: Vec<&str> = items.iter().map(|i| i.title().unwrap()).collect();
    let vectors = embed_texts(&encoder, &titles);

    let personas = PersonaFile::parse(DEFAULT_PERSONAS).unwrap().personas;
    let descriptions: Vec<&str> = personas.iter().map(|p| p.description.as_str()).collect();
    let description_vectors = embed_texts(&encoder, &descriptions);
    let catalogue: Vec<CatalogueItem<'_>> = items
        .iter()
        .zip(&vectors)
        .map(|(item, vector)| CatalogueItem {
            id: item.id(),
            title: item.title(),
            attributes: item.attributes(),
            vector,
        })
        .collect();
    let options = GenerateOptions { users: 1500, ratings_per_user: 30, seed: 5, now_ms: 1_700_000_000_000 };
    let generated = generate(&personas, &description_vectors, &catalogue, &options, None).unwrap();

    let content: Vec<(tailor_core::ItemId, Embedding)> =
        items.iter().zip(&vectors).map(|(item, v)| (item.id().clone(), v.clone())).collect();
    let dataset = Dataset::new(content, generated.events).unwrap();
    let attributes: Vec<_> = items.iter().map(Item::attributes).collect();
    let split = Split::default();
    let config = TrainConfig { hidden: 128, output: 64, max_epochs: 12, ..TrainConfig::default() };
    let trained = train(&dataset, &attributes, &split, &config, Device::Cpu, &mut |_| {}).unwrap();

    let rows =
        evaluate(&dataset, &attributes, &split, Some(&trained.weights), &ModalityVectors::default(), &[1, 3, 5], 3)
            .unwrap();
    let mean_ndcg = |method: Method| {
        let picked: Vec<f64> =
            rows.iter().filter(|r| r.slice == Slice::NewUsers && r.method == method).map(|r| r.ndcg_at_10).collect();
        picked.iter().sum::<f64>() / picked.len() as f64
    };
    let users = rows.iter().find(|r| r.slice == Slice::NewUsers).unwrap().users;
    let (model, popularity) = (mean_ndcg(Method::TwoTower), mean_ndcg(Method::Popularity));
    eprintln!("{users} held-out users; NDCG@10 over k = 1, 3, 5: two-tower {model:.4}, popularity {popularity:.4}");
    assert!(users >= 100, "{users} held-out users is too few to compare");
    assert!(model > popularity, "two-tower {model:.4} does not beat popularity {popularity:.4}");
}
