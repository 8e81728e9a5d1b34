//! The encoders against the upstream PyTorch implementations: fixtures/make_fixtures.py ran
//! `efficientnet-lite-pytorch` and Hugging Face's BERT on the same inputs and saved the outputs.

use std::path::{Path, PathBuf};

use tailor_embed::{EfficientNetLite0, IMAGENET, MiniLm, ModelFiles, load_image};
use tch::{Device, Kind, Tensor};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn reference(file: &str, name: &str) -> Tensor {
    let tensors = Tensor::read_safetensors(fixture(file)).unwrap();
    tensors.into_iter().find(|(n, _)| n == name).unwrap().1
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

#[test]
fn efficientnet_matches_upstream_on_the_fixture_photos() {
    let models = ModelFiles::locate(None).unwrap();
    let model = EfficientNetLite0::load(&models.efficientnet, Device::Cpu).unwrap();
    // The order make_fixtures.py wrote them in.
    let images: Vec<Tensor> = ["portrait", "landscape", "square"]
        .iter()
        .map(|n| load_image(&fixture(&format!("images/{n}.png")), &IMAGENET).unwrap())
        .collect();
    let features = model.features(&Tensor::stack(&images, 0));
    let expected = reference("efficientnet.safetensors", "features");
    assert_eq!(features.size(), [3, 1280]);
    let diff = max_abs_diff(&features, &expected);
    let scale = expected.abs().max().double_value(&[]);
    eprintln!("max abs diff {diff:.2e}");
    assert!(diff <= 1e-4 * scale.max(1.0), "max abs diff {diff} (largest feature {scale})");
}

#[test]
fn minilm_matches_upstream_tokens_and_embeddings() {
    let models = ModelFiles::locate(None).unwrap();
    let model = MiniLm::load(&models.minilm, Device::Cpu).unwrap();
    let texts: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(fixture("minilm_texts.json")).unwrap()).unwrap();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (ids, _) = model.tokenize(&texts).unwrap();
    assert_eq!(ids, reference("minilm.safetensors", "input_ids").to_kind(Kind::Int64));
    let embeddings = model.embed(&texts).unwrap();
    let diff = max_abs_diff(&embeddings, &reference("minilm.safetensors", "embeddings"));
    eprintln!("max abs diff {diff:.2e}");
    assert!(diff <= 1e-4, "max abs diff {diff}");
    // The sense MODELS.md reports: a query is close to its shirt and far from a watch.
    let similarity = embeddings.matmul(&embeddings.transpose(0, 1));
    let (shirt, watch) = (similarity.double_value(&[2, 0]), similarity.double_value(&[2, 3]));
    assert!(shirt > 0.7 && watch < 0.3, "shirt {shirt}, watch {watch}");
}

#[test]
fn a_missing_or_broken_photo_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.jpg");
    std::fs::write(&broken, b"not a jpeg").unwrap();
    let err = load_image(&broken, &IMAGENET).unwrap_err().to_string();
    assert!(err.contains("broken.jpg"), "{err}");
    assert!(load_image(&dir.path().join("absent.png"), &IMAGENET).unwrap_err().to_string().contains("absent.png"));
}
