//! Embedding a whole catalogue: encoder features (through the cache), the joint space (trained on
//! the catalogue's photo/title pairs unless already trained), and one fused unit vector per item.

use std::path::Path;

use tailor_core::{Embedding, Item, ItemId};
use tailor_models::ItemVectors;
use tch::{Device, Kind, Tensor};

use crate::joint::unit_rows;
use crate::{
    EmbedError, Extracted, Extractor, ItemContent, JointConfig, JointSpace, Progress, Retrieval,
    nearest_neighbour_accuracy, text_to_image,
};

#[derive(Clone, Debug, PartialEq)]
pub struct EmbedOptions {
    /// The photo's share of a fused vector (the text gets the rest).
    pub image_weight: f64,
    pub joint: JointConfig,
    /// Items with both modalities whose id hashes into this percentage are held out of the joint
    /// space's training, to evaluate it.
    pub holdout_percent: u8,
    /// Train the joint space again even when one is saved.
    pub retrain: bool,
    /// Measure retrieval and article-type agreement even when nothing was trained.
    pub evaluate: bool,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            image_weight: 0.5,
            joint: JointConfig::default(),
            holdout_percent: 10,
            retrain: false,
            evaluate: false,
        }
    }
}

/// Where photo and text vectors meet.
pub enum SpaceChoice<'a> {
    /// The offline pair's projection heads, saved at this path: loaded, or trained when absent.
    Learned(&'a Path),
    /// Encoders that already share a space (CLIP): vectors are used as they are.
    Shared,
}

enum Space {
    Learned(JointSpace),
    Shared(i64),
}

impl Space {
    fn dim(&self) -> i64 {
        match self {
            Space::Learned(joint) => joint.dim(),
            Space::Shared(dim) => *dim,
        }
    }

    fn project_image(&self, features: &Tensor) -> Tensor {
        match self {
            Space::Learned(joint) => joint.project_image(features),
            Space::Shared(_) => unit_rows(features),
        }
    }

    fn project_text(&self, features: &Tensor) -> Tensor {
        match self {
            Space::Learned(joint) => joint.project_text(features),
            Space::Shared(_) => unit_rows(features),
        }
    }
}

/// How well the vectors serve, measured when the joint space is trained.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub training_pairs: usize,
    /// Held-out titles finding their own photo among the held-out photos; `None` when no pair
    /// was held out (a very small catalogue).
    pub retrieval: Option<Retrieval>,
    /// Nearest-neighbour article-type agreement over items with both modalities, per kind of
    /// vector (label, accuracy, items).
    pub article_type_accuracy: Vec<(String, f64, usize)>,
}

pub struct CatalogueEmbedding {
    pub ids: Vec<ItemId>,
    /// Unit vectors in the joint space, [items, dim], aligned with `ids`.
    pub vectors: Tensor,
    /// Each item with text, embedded from its text alone: how the item would look arriving
    /// without a photo (the cold-start evaluation's text-only slice).
    pub text_only: (Vec<ItemId>, Tensor),
    /// Each item with a readable photo, embedded from the photo alone.
    pub photo_only: (Vec<ItemId>, Tensor),
    /// Items left out, with the reason (no usable text and no readable photo).
    pub rejected: Vec<(ItemId, String)>,
    /// Photos that could not be used; those items are embedded from their text.
    pub unreadable_images: Vec<(ItemId, String)>,
    pub computed_images: usize,
    pub computed_texts: usize,
    pub trained: bool,
    /// The learned joint space's temperature; `None` for a shared space.
    pub temperature: Option<f64>,
    pub evaluation: Option<Evaluation>,
}

impl CatalogueEmbedding {
    /// Writes the fused vectors to `fused`, and each modality's alone to `text_only` and
    /// `photo_only`, for the evaluation's baselines.
    pub fn save(&self, fused: &Path, text_only: &Path, photo_only: &Path) -> Result<(), EmbedError> {
        item_vectors(&self.ids, &self.vectors)?.save(fused)?;
        item_vectors(&self.text_only.0, &self.text_only.1)?.save(text_only)?;
        item_vectors(&self.photo_only.0, &self.photo_only.1)?.save(photo_only)?;
        Ok(())
    }
}

/// The rows of `matrix` ([items, dim]) as the vectors of `ids`.
fn item_vectors(ids: &[ItemId], matrix: &Tensor) -> Result<ItemVectors, EmbedError> {
    let dim = matrix.size().get(1).copied().unwrap_or(0) as usize;
    let mut vectors = ItemVectors::new(dim);
    let count = ids.len() * dim;
    let mut flat = vec![0f32; count];
    matrix.copy_data(&mut flat, count);
    for (id, row) in ids.iter().zip(flat.chunks_exact(dim.max(1))) {
        vectors.insert(id.clone(), Embedding::new(row.to_vec(), dim)?)?;
    }
    Ok(vectors)
}

/// What the text encoder reads for an item: its title, or its description when it has none.
pub fn item_text(item: &Item) -> Option<String> {
    item.title().or(item.description()).map(str::to_owned)
}

/// Below this many photo/title pairs, none are held out.
const MIN_PAIRS_TO_HOLD_OUT: usize = 100;

fn held_out(id: &ItemId, percent: u8) -> bool {
    blake3::hash(id.as_str().as_bytes()).as_bytes()[0] as u32 * 100 / 256 < percent as u32
}

pub fn embed_catalogue(
    items: &[Item],
    extractor: &Extractor<'_>,
    space: SpaceChoice<'_>,
    options: &EmbedOptions,
    device: Device,
    progress: &dyn Progress,
) -> Result<CatalogueEmbedding, EmbedError> {
    let contents: Vec<ItemContent> = items
        .iter()
        .map(|item| ItemContent {
            text: item_text(item),
            image: match item.image() {
                Some(tailor_core::ImageRef::File { path, .. }) => Some(path.into()),
                // Photos behind URLs are not fetched: embedding runs offline.
                Some(tailor_core::ImageRef::Url { .. }) | None => None,
            },
        })
        .collect();
    let extracted = extractor.run(&contents, progress)?;
    let paired: Vec<usize> =
        (0..items.len()).filter(|&i| extracted.image[i].is_some() && extracted.text[i].is_some()).collect();
    // A small catalogue needs every pair to learn from; it is not evaluated on held-out pairs.
    let (holdout, training): (Vec<usize>, Vec<usize>) = if paired.len() < MIN_PAIRS_TO_HOLD_OUT {
        (Vec::new(), paired.clone())
    } else {
        paired.iter().partition(|&&i| held_out(items[i].id(), options.holdout_percent))
    };

    let (space, trained) = match space {
        SpaceChoice::Learned(path) if path.is_file() && !options.retrain => {
            (Space::Learned(JointSpace::load(path, options.joint.dim, device)?), false)
        }
        SpaceChoice::Learned(path) => {
            let (image, text) = (stack(&extracted.image, &training), stack(&extracted.text, &training));
            let joint = JointSpace::train(&image, &text, &options.joint, device)?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| EmbedError::Weights { path: parent.into(), reason: e.to_string() })?;
            }
            joint.save(path)?;
            (Space::Learned(joint), true)
        }
        SpaceChoice::Shared => {
            let dim = extracted.image.iter().chain(&extracted.text).flatten().next().map_or(0, Vec::len);
            (Space::Shared(dim as i64), false)
        }
    };

    let mut ids = Vec::with_capacity(items.len());
    let mut rows = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if extracted.image[i].is_none() && extracted.text[i].is_none() {
            rejected
                .push((item.id().clone(), "neither a usable text nor a readable photo: nothing to embed".to_owned()));
        } else {
            ids.push(item.id().clone());
            rows.push(i);
        }
    }
    let vectors = fuse(&space, &extracted, &rows, options.image_weight);
    let single = |features: &[Option<Vec<f32>>], image_weight: f64| {
        let with: Vec<usize> = rows.iter().copied().filter(|&i| features[i].is_some()).collect();
        let ids = with.iter().map(|&i| items[i].id().clone()).collect();
        (ids, fuse(&space, &extracted, &with, image_weight))
    };
    let (text_only, photo_only) = (single(&extracted.text, 0.0), single(&extracted.image, 1.0));
    let evaluation =
        (trained || options.evaluate).then(|| evaluate(items, &space, &extracted, &training, &holdout, &paired));
    Ok(CatalogueEmbedding {
        ids,
        vectors,
        text_only,
        photo_only,
        rejected,
        unreadable_images: extracted
            .unreadable_images
            .iter()
            .map(|(i, reason)| (items[*i].id().clone(), reason.clone()))
            .collect(),
        computed_images: extracted.computed_images,
        computed_texts: extracted.computed_texts,
        trained,
        temperature: match &space {
            Space::Learned(joint) => Some(joint.temperature()),
            Space::Shared(_) => None,
        },
        evaluation,
    })
}

/// Rows `indices` of optional feature vectors (all present) as one matrix.
fn stack(features: &[Option<Vec<f32>>], indices: &[usize]) -> Tensor {
    let dim = indices.first().and_then(|&i| features[i].as_ref()).map_or(0, Vec::len);
    let flat: Vec<f32> = indices.iter().flat_map(|&i| features[i].as_ref().expect("present").iter().copied()).collect();
    Tensor::from_slice(&flat).view([indices.len() as i64, dim as i64])
}

/// One unit vector per row: the weighted sum of both projections when the item has both, the
/// one it has otherwise.
fn fuse(space: &Space, extracted: &Extracted, rows: &[usize], image_weight: f64) -> Tensor {
    let has_both = |i: usize| extracted.image[i].is_some() && extracted.text[i].is_some();
    let mut sum = Tensor::zeros([rows.len() as i64, space.dim()], (Kind::Float, Device::Cpu));
    for photo in [true, false] {
        let (features, share) =
            if photo { (&extracted.image, image_weight) } else { (&extracted.text, 1.0 - image_weight) };
        let members: Vec<usize> = (0..rows.len()).filter(|&k| features[rows[k]].is_some()).collect();
        if members.is_empty() {
            continue;
        }
        let source: Vec<usize> = members.iter().map(|&k| rows[k]).collect();
        let matrix = stack(features, &source);
        let projected = if photo { space.project_image(&matrix) } else { space.project_text(&matrix) };
        let weights: Vec<f32> = source.iter().map(|&i| if has_both(i) { share as f32 } else { 1.0 }).collect();
        let weighted = projected.to_device(Device::Cpu) * Tensor::from_slice(&weights).unsqueeze(1);
        let index = Tensor::from_slice(&members.iter().map(|&k| k as i64).collect::<Vec<_>>());
        sum = sum.index_add(0, &index, &weighted);
    }
    tch::no_grad(|| unit_rows(&sum))
}

fn evaluate(
    items: &[Item],
    space: &Space,
    extracted: &Extracted,
    training: &[usize],
    holdout: &[usize],
    paired: &[usize],
) -> Evaluation {
    let retrieval = (!holdout.is_empty()).then(|| {
        text_to_image(
            &space.project_text(&stack(&extracted.text, holdout)),
            &space.project_image(&stack(&extracted.image, holdout)),
        )
    });
    let mut vocabulary = std::collections::HashMap::new();
    let labels: Vec<i64> = paired
        .iter()
        .map(|&i| {
            let article = items[i].attributes().article_type.clone().unwrap_or_default().to_lowercase();
            let next = vocabulary.len() as i64;
            *vocabulary.entry(article).or_insert(next)
        })
        .collect();
    let photos = stack(&extracted.image, paired);
    let centred_photos = unit_rows(&(&photos - photos.mean_dim([0i64].as_slice(), true, Kind::Float)));
    let mut article_type_accuracy = vec![
        ("photo encoder output".to_owned(), nearest_neighbour_accuracy(&centred_photos, &labels), paired.len()),
        (
            "text encoder output".to_owned(),
            nearest_neighbour_accuracy(&unit_rows(&stack(&extracted.text, paired)), &labels),
            paired.len(),
        ),
    ];
    for weight in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let fused = fuse(space, extracted, paired, weight);
        let label = format!("item vectors, photo weight {weight:.2}");
        article_type_accuracy.push((label, nearest_neighbour_accuracy(&fused, &labels), paired.len()));
    }
    Evaluation { training_pairs: training.len(), retrieval, article_type_accuracy }
}
