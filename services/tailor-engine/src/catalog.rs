//! The catalogue as the service ranks it: every item by id, and the items that have a vector in
//! one contiguous matrix for top-K with attribute filters.

use std::collections::{BTreeMap, HashMap};

use tailor_core::{FilterField, Gender, Item, ItemId, ItemMatrix, ItemMatrixBuilder};
use tailor_stream::ItemVectors;

use crate::{EngineError, MatrixSearch, SearchConfig};

/// How many items the onboarding set holds at most.
const ONBOARDING_SIZE: usize = 60;

pub struct ServingCatalog {
    /// Every item; the first `matrix.len()` in matrix row order, then those without a vector.
    items: Vec<Item>,
    index: HashMap<ItemId, u32>,
    matrix: ItemMatrix,
    search: MatrixSearch,
    /// Every row once, interleaving the catalogue's shelves (gender and article type).
    spread: Vec<u32>,
    onboarding: Vec<u32>,
}

impl ServingCatalog {
    /// Items without a vector can be browsed but not recommended. Searches are exact until
    /// [`ServingCatalog::build_index`] has run, if the matrix is large enough to want an index.
    pub fn new(items: Vec<Item>, vectors: &ItemVectors, search: SearchConfig) -> Result<ServingCatalog, EngineError> {
        let mut builder = ItemMatrixBuilder::new(vectors.dim())?;
        let (mut rankable, rest): (Vec<Item>, Vec<Item>) =
            items.into_iter().partition(|item| vectors.get(item.id().as_str()).is_some());
        // Rows grouped by category: a category filter's exact scan then reads one contiguous
        // block instead of rows scattered over the matrix (at a million items, 15 ms -> 4 ms).
        rankable.sort_by(|a, b| (&a.attributes().category, a.id()).cmp(&(&b.attributes().category, b.id())));
        for item in &rankable {
            let vector = vectors.get(item.id().as_str()).expect("partitioned on having a vector");
            builder.push(item.id().clone(), item.attributes(), vector)?;
        }
        let matrix = builder.build();
        let spread = spread(&rankable);
        // Photos make a better first screen; a catalogue without any still gets one.
        let has_photo = |row: &u32| rankable[*row as usize].image().is_some();
        let mut onboarding: Vec<u32> = spread.iter().copied().filter(has_photo).take(ONBOARDING_SIZE).collect();
        if onboarding.is_empty() {
            onboarding = spread.iter().copied().take(ONBOARDING_SIZE).collect();
        }
        let items: Vec<Item> = rankable.into_iter().chain(rest).collect();
        let index = items.iter().enumerate().map(|(i, item)| (item.id().clone(), i as u32)).collect();
        Ok(ServingCatalog { items, index, matrix, search: MatrixSearch::new(search), spread, onboarding })
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.index.get(id).map(|&i| &self.items[i as usize])
    }

    /// The item of a matrix row.
    pub fn item_at(&self, row: u32) -> &Item {
        &self.items[row as usize]
    }

    /// What a shopper sees as the same product: the title and colour, case and spacing aside;
    /// `None` for an item without a title.
    pub fn listing(&self, row: u32) -> Option<String> {
        let item = self.item_at(row);
        let colour = item.attributes().colour.as_deref().unwrap_or("");
        let words = item.title()?.split_whitespace().chain(colour.split_whitespace());
        Some(words.map(str::to_lowercase).collect::<Vec<_>>().join(" "))
    }

    /// A row's value of `field`, lower case; `None` when it has none (or "NA", as some exports
    /// write it).
    pub fn attribute(&self, row: u32, field: FilterField) -> Option<String> {
        let attributes = self.item_at(row).attributes();
        let value = match field {
            FilterField::Gender => attributes.gender.map(|g| g.as_str().to_owned()),
            FilterField::Category => attributes.category.clone(),
            FilterField::SubCategory => attributes.sub_category.clone(),
            FilterField::ArticleType => attributes.article_type.clone(),
            FilterField::Colour => attributes.colour.clone(),
            FilterField::Season => attributes.season.clone(),
            FilterField::Usage => attributes.usage.clone(),
            FilterField::Brand => attributes.brand.clone(),
        };
        value.map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty() && v != "na")
    }

    /// Whether two rows have the same article type (both having one).
    pub fn same_article_type(&self, a: u32, b: u32) -> bool {
        let article = self.attribute(a, FilterField::ArticleType);
        article.is_some() && article == self.attribute(b, FilterField::ArticleType)
    }

    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn matrix(&self) -> &ItemMatrix {
        &self.matrix
    }

    /// Searches the content vectors.
    pub fn search(&self) -> &MatrixSearch {
        &self.search
    }

    /// Builds the approximate index over the content vectors, when there are enough of them to
    /// want one; minutes at a million items, so callers run it beside serving.
    pub fn build_index(&self) -> Result<(), EngineError> {
        self.search.build(&self.matrix, "content")
    }

    /// Every row once, in an order that takes one item from each shelf (gender and article type)
    /// in turn, larger shelves first: any stretch of it, and any filtered part of it, covers the
    /// catalogue rather than one shelf.
    pub fn spread(&self) -> &[u32] {
        &self.spread
    }

    /// A visitor's first screen: the start of the spread, items with photos only.
    pub fn onboarding(&self) -> &[u32] {
        &self.onboarding
    }
}

fn spread(items: &[Item]) -> Vec<u32> {
    let mut shelves: BTreeMap<(Option<Gender>, String), Vec<u32>> = BTreeMap::new();
    for (row, item) in items.iter().enumerate() {
        let attributes = item.attributes();
        let article = attributes.article_type.as_deref().unwrap_or("").to_lowercase();
        shelves.entry((attributes.gender, article)).or_default().push(row as u32);
    }
    let mut shelves: Vec<Vec<u32>> = shelves.into_values().collect();
    // Within a shelf, a stable scramble of the ids rather than id order, whose neighbours are
    // often one product line.
    for shelf in &mut shelves {
        shelf.sort_by_key(|&row| fnv1a(items[row as usize].id().as_str()));
    }
    // Larger shelves first; the sort is stable, so ties keep the name order.
    shelves.sort_by_key(|shelf| std::cmp::Reverse(shelf.len()));
    let mut order = Vec::with_capacity(items.len());
    for depth in 0.. {
        let before = order.len();
        order.extend(shelves.iter().filter_map(|shelf| shelf.get(depth)));
        if order.len() == before {
            break;
        }
    }
    order
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}
