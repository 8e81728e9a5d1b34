//! CLIP against `transformers`: fixtures/make_clip_fixture.py built a tiny CLIP with random
//! weights from a small configuration, with a CLIP-style byte-level BPE tokenizer, and saved its
//! outputs for the fixture photos and a few titles.

use std::path::{Path, PathBuf};

use tailor_embed::{Clip, load_image};
use tch::{Device, Kind, Tensor};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn expected(name: &str) -> Tensor {
    let tensors = Tensor::read_safetensors(fixture("tiny_clip.safetensors")).unwrap();
    tensors.into_iter().find(|(n, _)| n == name).unwrap().1
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

const TITLES: [&str; 4] = [
    "Turtle Check Men Navy Blue Shirt",
    "Puma Women Black Running Shoes",
    "navy blue checked shirt for men",
    "Titan Women Gold-Toned Dial Watch",
];

#[test]
fn text_tower_matches_transformers() {
    let clip = Clip::load(&fixture("tiny-clip"), Device::Cpu).unwrap();
    assert_eq!(clip.dim(), 16);
    let ids = clip.tokenize(&TITLES).unwrap();
    assert_eq!(ids, expected("input_ids").to_kind(Kind::Int64));
    let diff = max_abs_diff(&clip.embed_texts(&TITLES).unwrap(), &expected("text_embeds"));
    eprintln!("max abs diff {diff:.2e}");
    assert!(diff <= 1e-4, "max abs diff {diff}");
}

#[test]
fn image_tower_matches_transformers() {
    let clip = Clip::load(&fixture("tiny-clip"), Device::Cpu).unwrap();
    let images: Vec<Tensor> = ["portrait", "landscape", "square"]
        .iter()
        .map(|n| load_image(&fixture(&format!("images/{n}.png")), clip.normalisation()).unwrap())
        .collect();
    let diff = max_abs_diff(&clip.embed_images(&Tensor::stack(&images, 0)), &expected("image_embeds"));
    eprintln!("max abs diff {diff:.2e}");
    assert!(diff <= 1e-4, "max abs diff {diff}");
}

#[test]
fn a_broken_model_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = Clip::load(dir.path(), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("config.json"), "{err}");
    std::fs::write(dir.path().join("config.json"), r#"{"text_config": {"hidden_act": "swish"}, "vision_config": {}}"#)
        .unwrap();
    std::fs::copy(fixture("tiny-clip/tokenizer.json"), dir.path().join("tokenizer.json")).unwrap();
    let err = Clip::load(dir.path(), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("hidden_act \"swish\" is not supported"), "{err}");
}
