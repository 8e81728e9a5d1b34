//! The plain-Rust towers serving runs agree with the tch model they were exported from.

use tailor_trainer::{TwoTower, TwoTowerConfig};
use tch::{Device, Kind, Tensor};

#[test]
fn exported_towers_and_head_match_tch() {
    tch::manual_seed(7);
    let config = TwoTowerConfig::new(32);
    let model = TwoTower::new(&config, Device::Cpu);
    let users = Tensor::randn([16, 32], (Kind::Float, Device::Cpu));
    let items = Tensor::randn([16, 32], (Kind::Float, Device::Cpu));
    let exported = model.export(None).unwrap();
    let (user_tower, item_tower, head) = (&exported.user, &exported.item, &exported.head);
    let expected_users = tch::no_grad(|| model.users(&users));
    let expected_ratings = tch::no_grad(|| model.ratings(&users, &items));
    let mut worst = 0f32;
    for row in 0..16 {
        let input = |t: &Tensor| -> Vec<f32> { Vec::<f32>::try_from(t.get(row)).unwrap() };
        let user = user_tower.forward(&input(&users)).unwrap();
        let item = item_tower.forward(&input(&items)).unwrap();
        let reference: Vec<f32> = Vec::try_from(expected_users.get(row)).unwrap();
        worst = worse(worst, max_abs_diff(user.as_slice(), &reference));
        let rating = head.rating(user.cosine(&item).unwrap());
        worst = worse(worst, (rating - expected_ratings.double_value(&[row]) as f32).abs() / 10.0);
    }
    eprintln!("max abs diff {worst:.2e}");
    assert!(worst <= 1e-5, "max abs diff {worst}");
}

/// The larger difference, where NaN is the largest: `f32::max` would drop it and pass.
fn worse(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0.0, |worst, (x, y)| worse(worst, (x - y).abs()))
}

#[test]
fn a_nan_on_either_side_fails_the_comparison() {
    for (ours, theirs) in [([0.5, f32::NAN], [0.5, 0.1]), ([0.5, 0.1], [f32::NAN, 0.1])] {
        let diff = max_abs_diff(&ours, &theirs);
        // The parity test's own check, `worst <= 1e-5`, must not hold.
        assert!(diff.partial_cmp(&1e-5).is_none(), "{ours:?} against {theirs:?} passed with {diff}");
    }
    assert_eq!(max_abs_diff(&[0.5, 0.1], &[0.5, 0.1]), 0.0);
}

#[test]
fn nearer_items_are_predicted_better() {
    tch::manual_seed(3);
    let model = TwoTower::new(&TwoTowerConfig::new(8), Device::Cpu);
    let user = Tensor::randn([1, 8], (Kind::Float, Device::Cpu));
    let items = Tensor::randn([64, 8], (Kind::Float, Device::Cpu));
    let (cosines, ratings) = tch::no_grad(|| {
        let cosine = model.users(&user).matmul(&model.items(&items).transpose(0, 1)).squeeze_dim(0);
        (cosine, model.ratings(&user.expand([64, 8], false), &items))
    });
    let order = |t: &Tensor| Vec::<i64>::try_from(t.argsort(0, true)).unwrap();
    assert_eq!(order(&cosines), order(&ratings), "ranking by rating must equal ranking by cosine");
}
