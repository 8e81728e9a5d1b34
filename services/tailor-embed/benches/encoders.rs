//! Encoder throughput on this machine's CPU (or its GPU when there is one): photos/s through
//! EfficientNet-Lite0 in batches of 32, with decoding and preprocessing, and texts/s through
//! MiniLM in batches of 64 catalogue-like titles.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tailor_embed::{EfficientNetLite0, IMAGENET, MiniLm, ModelFiles, best_device, keep_freed_memory, load_image};
use tch::Tensor;

const PHOTOS: usize = 32;
const TEXTS: usize = 64;

fn bench_encoders(c: &mut Criterion) {
    keep_freed_memory();
    let device = best_device();
    let models = ModelFiles::locate(None).unwrap();
    let image_encoder = EfficientNetLite0::load(&models.efficientnet, device).unwrap();
    let text_encoder = MiniLm::load(&models.minilm, device).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images");
    let photos: Vec<_> = ["portrait", "landscape", "square"]
        .iter()
        .map(|n| fixtures.join(format!("{n}.png")))
        .cycle()
        .take(PHOTOS)
        .collect();
    let colours = ["Navy Blue", "Black", "White", "Red", "Olive"];
    let kinds = ["Checked Shirt", "Running Shoes", "Slim Fit Jeans", "Analog Watch", "Printed Kurta", "Handbag"];
    let titles: Vec<String> = (0..TEXTS)
        .map(|i| format!("Brand{} Men {} {}", i % 7, colours[i % colours.len()], kinds[i % kinds.len()]))
        .collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();

    let mut group = c.benchmark_group(format!("encoders_{device:?}").to_lowercase());
    group.sample_size(10);
    group.throughput(Throughput::Elements(PHOTOS as u64));
    group.bench_function("photos_batch_32", |b| {
        b.iter(|| {
            let images: Vec<Tensor> = photos.iter().map(|p| load_image(p, &IMAGENET).unwrap()).collect();
            image_encoder.features(&Tensor::stack(&images, 0).to(device)).to_device(tch::Device::Cpu)
        })
    });
    group.throughput(Throughput::Elements(TEXTS as u64));
    group.bench_function("texts_batch_64", |b| {
        b.iter(|| text_encoder.embed(&titles).unwrap().to_device(tch::Device::Cpu))
    });
    group.finish();
}

criterion_group!(benches, bench_encoders);
criterion_main!(benches);
