use tailor_models::{ModelError, ModelStore};
use tailor_testkit::models::published;

#[test]
fn versions_are_numbered_published_active_and_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path()).unwrap();
    assert_eq!(store.active().unwrap(), None);
    let first = store.publish(published(1.0)).unwrap();
    assert_eq!((first.version, first.parent), (1, None));
    let second = store.publish(published(2.0)).unwrap();
    assert_eq!((second.version, second.parent), (2, Some(1)));
    assert_eq!(store.active().unwrap(), Some(2));
    let loaded = store.load(2).unwrap();
    assert_eq!(loaded.item_vectors.get("a").unwrap().as_slice()[1], 2.0 / 5f32.sqrt());

    assert_eq!(store.rollback().unwrap().manifest.version, 1);
    assert_eq!(store.active().unwrap(), Some(1));
    assert!(matches!(store.rollback(), Err(ModelError::NothingToRollBack(1))));
    store.activate(2).unwrap();
    assert!(matches!(store.activate(9), Err(ModelError::UnknownVersion(9))));
    let listed: Vec<(u64, bool)> = store.list().unwrap().iter().map(|v| (v.version, v.active)).collect();
    assert_eq!(listed, [(1, false), (2, true)]);
}

#[test]
fn a_corrupt_version_is_refused_and_the_active_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path()).unwrap();
    store.publish(published(1.0)).unwrap();
    store.publish(published(2.0)).unwrap();
    store.activate(1).unwrap();
    let towers = store.version_dir(2).join("towers.safetensors");
    let bytes = std::fs::read(&towers).unwrap();
    std::fs::write(&towers, &bytes[..bytes.len() / 2]).unwrap();
    let error = store.activate(2).unwrap_err();
    assert!(matches!(error, ModelError::Corrupt { version: 2, .. }), "{error}");
    assert!(error.to_string().contains("towers.safetensors"), "{error}");
    assert_eq!(store.active().unwrap(), Some(1));
}

#[test]
fn staging_directories_are_not_versions_and_training_is_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path()).unwrap();
    std::fs::create_dir(dir.path().join(".staging-v000001-42")).unwrap();
    assert!(store.versions().unwrap().is_empty());
    assert_eq!(store.publish(published(1.0)).unwrap().version, 1);
    let lock = store.lock_training().unwrap();
    assert!(matches!(store.lock_training(), Err(ModelError::TrainingInProgress { .. })));
    drop(lock);
    store.lock_training().unwrap();
}

#[test]
fn a_rollback_names_its_target_first_and_skips_versions_that_no_longer_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path()).unwrap();
    for seed in [1.0, 2.0, 3.0] {
        store.publish(published(seed)).unwrap();
    }
    std::fs::write(store.version_dir(2).join("towers.safetensors"), b"damaged").unwrap();
    assert_eq!(store.rollback_target().unwrap(), 1, "2 no longer loads");
    assert_eq!(store.active().unwrap(), Some(3), "naming the target changes nothing");
    assert!(matches!(store.rollback_to(9), Err(ModelError::NothingToRollBack(3))));
    assert_eq!(store.rollback_to(1).unwrap().manifest.version, 1);
    assert_eq!(store.active().unwrap(), Some(1));
    assert!(matches!(store.rollback_target(), Err(ModelError::NothingToRollBack(1))));
}
