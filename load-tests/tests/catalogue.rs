//! `tailor-load catalogue` writes a data directory `tailor serve` can read, and refuses to write
//! over one.

use assert_cmd::Command;
use tailor_catalog::CatalogStore;
use tailor_models::ItemVectors;

#[test]
fn writes_a_catalogue_and_its_vectors_once() {
    let dir = tempfile::tempdir().unwrap();
    let write = || {
        let mut command = Command::cargo_bin("tailor-load").unwrap();
        command.args(["catalogue", "--items", "300", "--dim", "16", "--data-dir"]).arg(dir.path());
        command.assert()
    };
    write().success();
    let items = CatalogStore::open(dir.path()).unwrap().load_all().unwrap();
    let vectors = ItemVectors::load(&dir.path().join("embeddings/items.safetensors")).unwrap();
    assert_eq!((items.len(), vectors.len(), vectors.dim()), (300, 300, 16));
    assert!(items.iter().all(|item| vectors.get(item.id().as_str()).is_some()));
    let refused = write().failure();
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("give an empty data directory"), "{stderr}");
}
