//! `tailor embed` on a small catalogue, as a user runs it: vectors for every item, from the photo
//! and the title, and a second run that finds everything cached.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

mod common;

fn tailor(data_dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tailor").unwrap();
    cmd.arg("--data-dir").arg(data_dir).env_remove("TAILOR_DATA_DIR").env_remove("TAILOR_CONFIG");
    cmd
}

#[test]
fn embeds_a_catalogue_and_a_second_run_computes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = common::write_shop(
        dir.path(),
        "id,title,image,article_type,gender",
        &[
            "a,Navy Blue Checked Shirt,images/portrait.png,Shirts,Men",
            "b,Black Running Shoes,images/landscape.png,Sports Shoes,Men",
            "c,Red Printed Kurta,images/square.png,Kurtas,Women",
            "d,Olive Slim Fit Jeans,images/portrait.png,Jeans,Men",
            "e,White Analog Watch,,Watches,Women",
        ],
    );
    let data = dir.path().join("data");
    tailor(&data).args(["ingest", "--format", "generic"]).arg(&csv).assert().success();

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

    // New items: only their titles are encoded; the photo file is one already seen.
    let mut rows = fs::read_to_string(&csv).unwrap();
    rows.push_str("f,Green Silk Saree,images/square.png,Sarees,Women\ng,Brown Leather Belt,,Belts,Men\n");
    fs::write(&csv, rows).unwrap();
    tailor(&data).args(["ingest", "--format", "generic"]).arg(&csv).assert().success();
    tailor(&data)
        .arg("embed")
        .assert()
        .success()
        .stdout(predicate::str::contains("computed 0 photo and 2 text features"))
        .stdout(predicate::str::contains("wrote 7 vectors"));
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
    let csv = common::write_shop(
        dir.path(),
        "id,title,image,article_type",
        &["x,Red Printed Kurta,images/square.png,Kurtas", "y,Black Running Shoes,,Shoes"],
    );
    let data = dir.path().join("data");
    tailor(&data).args(["ingest", "--format", "generic"]).arg(&csv).assert().success();
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
