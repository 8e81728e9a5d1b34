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
        for (a, b) in user.as_slice().iter().zip(&reference) {
            worst = worst.max((a - b).abs());
        }
        let rating = head.rating(user.cosine(&item).unwrap());
        worst = worst.max((rating - expected_ratings.double_value(&[row]) as f32).abs() / 10.0);
    }
    eprintln!("max abs diff {worst:.2e}");
    assert!(worst <= 1e-5, "max abs diff {worst}");
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
