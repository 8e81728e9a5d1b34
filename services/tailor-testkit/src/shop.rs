//! A large seeded catalogue drawn like a shop's, for benchmarks at sizes no real catalogue here
//! has: article types, styles within each type, and each item a style plus its own noise, so
//! vectors cluster the way real embeddings do rather than spreading uniformly.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use tailor_core::{Attributes, Embedding, Gender, Item, ItemId};
use tailor_models::ItemVectors;

pub const TYPES: usize = 40;
pub const STYLES_PER_TYPE: usize = 25;
pub const CATEGORIES: [&str; 7] =
    ["Apparel", "Footwear", "Accessories", "Personal Care", "Free Items", "Sporting", "Home"];

pub struct Shop {
    /// Items `shop-0` ..: every other one for women, the category and article type from the
    /// item's type, no photo.
    pub items: Vec<Item>,
    pub vectors: ItemVectors,
    /// For each style, the indices of its items in `items`.
    pub items_by_style: Vec<Vec<usize>>,
}

fn normal_vector(rng: &mut StdRng, dim: usize, length: f32) -> Vec<f32> {
    let scale = length / (dim as f32).sqrt();
    (0..dim).map(|_| <StandardNormal as Distribution<f32>>::sample(&StandardNormal, rng) * scale).collect()
}

fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// `count` items of dimension `dim`; `noise` is the length of each item's own offset from its
/// style (styles lie 0.6 from their type, types 1.0 from the origin).
pub fn shop(count: usize, dim: usize, noise: f32, seed: u64) -> Shop {
    let mut rng = StdRng::seed_from_u64(seed);
    let types: Vec<Vec<f32>> = (0..TYPES).map(|_| normal_vector(&mut rng, dim, 1.0)).collect();
    let styles: Vec<Vec<f32>> = (0..TYPES * STYLES_PER_TYPE)
        .map(|s| add(&types[s / STYLES_PER_TYPE], &normal_vector(&mut rng, dim, 0.6)))
        .collect();
    let mut items_by_style = vec![Vec::new(); styles.len()];
    let mut items = Vec::with_capacity(count);
    let mut vectors = ItemVectors::new(dim);
    for i in 0..count {
        let style = rng.random_range(0..styles.len());
        let kind = style / STYLES_PER_TYPE;
        let id = ItemId::new(format!("shop-{i}")).expect("a valid id");
        let attributes = Attributes {
            gender: Some(Gender::ALL[i % 2]),
            category: Some(CATEGORIES[kind % CATEGORIES.len()].to_owned()),
            article_type: Some(format!("Type {kind}")),
            ..Attributes::default()
        };
        let title = format!("Style {style} item {i}");
        items.push(Item::new(id.clone(), Some(title), None, None, attributes).expect("a valid item"));
        let vector = Embedding::new(add(&styles[style], &normal_vector(&mut rng, dim, noise)), dim)
            .expect("a style plus noise is not zero");
        vectors.insert(id, vector).expect("one dimension");
        items_by_style[style].push(i);
    }
    Shop { items, vectors, items_by_style }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_of_a_style_are_closer_to_each_other_than_to_other_types() {
        let shop = shop(4_000, 32, 0.6, 1);
        assert_eq!((shop.items.len(), shop.vectors.len()), (4_000, 4_000));
        let vector = |i: usize| shop.vectors.get(shop.items[i].id().as_str()).unwrap().as_slice();
        let cosine = |a: usize, b: usize| vector(a).iter().zip(vector(b)).map(|(x, y)| x * y).sum::<f32>();
        let mean = |values: Vec<f32>| values.iter().sum::<f32>() / values.len() as f32;
        let styles = &shop.items_by_style;
        let pairs = || (0..styles.len()).filter(|&s| styles[s].len() >= 2);
        let same_style = mean(pairs().map(|s| cosine(styles[s][0], styles[s][1])).collect());
        // The style STYLES_PER_TYPE on belongs to the next type.
        let other_type = pairs().filter_map(|s| {
            styles[(s + STYLES_PER_TYPE) % styles.len()].first().map(|&other| cosine(styles[s][0], other))
        });
        let other_type = mean(other_type.collect());
        assert!(same_style > other_type + 0.3, "same style {same_style}, other type {other_type}");
    }
}
