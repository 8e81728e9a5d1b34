//! `tailor embed` on a small catalogue, as a user runs it: vectors for every item, from the photo
//! and the title, and a second run that finds everything cached.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn tailor(data_dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tailor").unwrap();
    cmd.arg("--data-dir").arg(data_dir).env_remove("TAILOR_DATA_DIR").env_remove("TAILOR_CONFIG");
    cmd
}

#[test]
fn embeds_a_catalogue_and_a_second_run_computes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("shop");
    fs::create_dir_all(shop.join("images")).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tailor-embed/fixtures/images");
    for name in ["portrait", "landscape", "square"] {
        fs::copy(fixtures.join(format!("{name}.png")), shop.join(format!("images/{name}.png"))).unwrap();
    }
    fs::write(
        shop.join("shop.csv"),
        "id,title,image,article_type,gender\n\
         a,Navy Blue Checked Shirt,images/portrait.png,Shirts,Men\n\
         b,Black Running Shoes,images/landscape.png,Sports Shoes,Men\n\
         c,Red Printed Kurta,images/square.png,Kurtas,Women\n\
         d,Olive Slim Fit Jeans,images/portrait.png,Jeans,Men\n\
         e,White Analog Watch,,Watches,Women\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    tailor(&data).args(["ingest", "--format", "generic"]).arg(shop.join("shop.csv")).assert().success();

    tailor(&data)
        .arg("embed")
        .assert()
        .success()
        .stdout(predicate::str::contains("computed 3 photo and 5 text features"))
        .stdout(predicate::str::contains("joint space trained"))
        .stdout(predicate::str::contains("nearest-neighbour article-type accuracy"))
        .stdout(predicate::str::contains("wrote 5 vectors of dimension 256"));
    let vectors = tailor_stream::ItemVectors::load(&data.join("embeddings/items.safetensors")).unwrap();
    assert_eq!((vectors.len(), vectors.dim()), (5, 256));
    // The text-only item lives in the same space as the others.
    assert!(vectors.get("e").is_some());

    tailor(&data)
        .arg("embed")
        .assert()
        .success()
        .stdout(predicate::str::contains("computed 0 photo and 0 text features"))
        .stdout(predicate::str::contains("joint space loaded"));
}

#[test]
fn an_empty_catalogue_is_refused_with_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    tailor(dir.path()).arg("embed").assert().failure().stderr(predicate::str::contains("run `tailor ingest` first"));
}

#[test]
fn embeds_with_clip_from_a_model_directory() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tailor-embed/fixtures");
    let shop = dir.path().join("shop");
    fs::create_dir_all(shop.join("images")).unwrap();
    fs::copy(fixtures.join("images/square.png"), shop.join("images/square.png")).unwrap();
    fs::write(
        shop.join("shop.csv"),
        "id,title,image,article_type\nx,Red Printed Kurta,images/square.png,Kurtas\ny,Black Running Shoes,,Shoes\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    tailor(&data).args(["ingest", "--format", "generic"]).arg(shop.join("shop.csv")).assert().success();
    tailor(&data)
        .args(["embed", "--encoder", "clip", "--model-dir"])
        .arg(fixtures.join("tiny-clip"))
        .assert()
        .success()
        .stdout(predicate::str::contains("CLIP's shared space"))
        .stdout(predicate::str::contains("wrote 2 vectors of dimension 16"));
    tailor(&data)
        .args(["embed", "--encoder", "clip"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--model-dir"));
}
