//! Running the encoders over a catalogue in batches, through the content cache.

use std::collections::HashMap;
use std::path::PathBuf;

use tch::Tensor;

use crate::cache::{ContentKey, FeatureCache, content_key};
use crate::encoders::{PhotoEncoder, TextEncoder};
use crate::{EmbedError, decode_image};

const IMAGE_BATCH: usize = 32;
const TEXT_BATCH: usize = 64;

/// What an item offers the encoders.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemContent {
    pub text: Option<String>,
    pub image: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Texts,
    Photos,
}

/// Told how the work advances, for a progress bar.
pub trait Progress {
    fn start(&self, stage: Stage, total: u64, cached: u64);
    fn advance(&self, count: u64);
    fn finish(&self);
}

#[derive(Debug, Default)]
pub struct Extracted {
    /// Photo vectors, aligned with the input; `None` without a usable photo.
    pub image: Vec<Option<Vec<f32>>>,
    /// Text vectors, aligned with the input.
    pub text: Vec<Option<Vec<f32>>>,
    /// Items whose photo could not be read or decoded, with the reason.
    pub unreadable_images: Vec<(usize, String)>,
    pub computed_images: usize,
    pub computed_texts: usize,
}

pub struct Extractor<'a> {
    pub photos: &'a dyn PhotoEncoder,
    pub texts: &'a dyn TextEncoder,
    pub cache: &'a FeatureCache,
}

impl Extractor<'_> {
    pub fn run(&self, items: &[ItemContent], progress: &dyn Progress) -> Result<Extracted, EmbedError> {
        let mut out =
            Extracted { image: vec![None; items.len()], text: vec![None; items.len()], ..Extracted::default() };
        self.texts(items, &mut out, progress)?;
        self.photos(items, &mut out, progress)?;
        Ok(out)
    }

    fn texts(&self, items: &[ItemContent], out: &mut Extracted, progress: &dyn Progress) -> Result<(), EmbedError> {
        let wanted: Vec<(usize, &str)> =
            items.iter().enumerate().filter_map(|(i, item)| Some((i, item.text.as_deref()?))).collect();
        let encoder = self.texts.cache_name();
        let keys: Vec<ContentKey> = wanted.iter().map(|(_, text)| content_key(&encoder, text.as_bytes())).collect();
        let missing = fill_from_cache(self.cache, &wanted, &keys, &mut out.text)?;
        progress.start(Stage::Texts, wanted.len() as u64, (wanted.len() - missing.len()) as u64);
        for batch in group_by_content(&missing, &keys).chunks(TEXT_BATCH) {
            let texts: Vec<&str> = batch.iter().map(|group| wanted[group[0]].1).collect();
            let vectors = rows(&self.texts.encode_texts(&texts)?);
            let filled = self.store(batch, &keys, &wanted, vectors, &mut out.text)?;
            out.computed_texts += batch.len();
            progress.advance(filled);
        }
        progress.finish();
        Ok(())
    }

    fn photos(&self, items: &[ItemContent], out: &mut Extracted, progress: &dyn Progress) -> Result<(), EmbedError> {
        let mut wanted: Vec<(usize, Vec<u8>)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(path) = &item.image else { continue };
            match std::fs::read(path) {
                Ok(bytes) => wanted.push((i, bytes)),
                Err(e) => out.unreadable_images.push((i, format!("{}: {e}", path.display()))),
            }
        }
        let encoder = self.photos.cache_name();
        let keys: Vec<ContentKey> = wanted.iter().map(|(_, bytes)| content_key(&encoder, bytes)).collect();
        let missing = fill_from_cache(self.cache, &wanted, &keys, &mut out.image)?;
        progress.start(Stage::Photos, wanted.len() as u64, (wanted.len() - missing.len()) as u64);
        for batch in group_by_content(&missing, &keys).chunks(IMAGE_BATCH) {
            let mut decoded = Vec::with_capacity(batch.len());
            let mut tensors = Vec::with_capacity(batch.len());
            for group in batch {
                let (i, bytes) = &wanted[group[0]];
                let path = items[*i].image.as_ref().expect("only items with a photo are read");
                match decode_image(bytes, path, self.photos.normalisation()) {
                    Ok(tensor) => {
                        decoded.push(group.clone());
                        tensors.push(tensor);
                    }
                    Err(e) => {
                        // Every item with this same file content has the same problem.
                        out.unreadable_images.extend(group.iter().map(|&k| (wanted[k].0, e.to_string())));
                        progress.advance(group.len() as u64);
                    }
                }
            }
            if !tensors.is_empty() {
                let images = Tensor::stack(&tensors, 0).to(self.photos.device());
                let vectors = rows(&self.photos.encode_photos(&images));
                let filled = self.store(&decoded, &keys, &wanted, vectors, &mut out.image)?;
                out.computed_images += decoded.len();
                progress.advance(filled);
            }
        }
        progress.finish();
        Ok(())
    }

    /// Caches one freshly computed vector per content group and puts it in every slot of the
    /// group; returns how many slots that filled.
    fn store<T>(
        &self,
        groups: &[Vec<usize>],
        keys: &[ContentKey],
        wanted: &[(usize, T)],
        vectors: Vec<Vec<f32>>,
        slots: &mut [Option<Vec<f32>>],
    ) -> Result<u64, EmbedError> {
        let entries: Vec<(ContentKey, Vec<f32>)> = groups.iter().map(|group| keys[group[0]]).zip(vectors).collect();
        self.cache.put_many(&entries)?;
        let mut filled = 0;
        for (group, (_, vector)) in groups.iter().zip(&entries) {
            for &k in group {
                slots[wanted[k].0] = Some(vector.clone());
            }
            filled += group.len() as u64;
        }
        Ok(filled)
    }
}

/// Fills `slots` from the cache and returns the positions in `wanted` still to compute.
fn fill_from_cache<T>(
    cache: &FeatureCache,
    wanted: &[(usize, T)],
    keys: &[ContentKey],
    slots: &mut [Option<Vec<f32>>],
) -> Result<Vec<usize>, EmbedError> {
    let mut missing = Vec::new();
    for (k, cached) in cache.get_many(keys)?.into_iter().enumerate() {
        match cached {
            Some(vector) => slots[wanted[k].0] = Some(vector),
            None => missing.push(k),
        }
    }
    Ok(missing)
}

/// `missing` grouped by content, in order of first appearance: identical titles or photo files
/// are encoded once, and the result fills every position of the group.
fn group_by_content(missing: &[usize], keys: &[ContentKey]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<ContentKey, usize> = HashMap::new();
    for &k in missing {
        let group = *group_of.entry(keys[k]).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(k);
    }
    groups
}

fn rows(matrix: &Tensor) -> Vec<Vec<f32>> {
    let matrix = matrix.to_device(tch::Device::Cpu).to_kind(tch::Kind::Float).contiguous();
    let (count, dim) = (matrix.size()[0] as usize, matrix.size()[1] as usize);
    let mut flat = vec![0f32; count * dim];
    matrix.copy_data(&mut flat, count * dim);
    flat.chunks_exact(dim).map(<[f32]>::to_vec).collect()
}
