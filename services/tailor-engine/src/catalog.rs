//! The catalogue as the service ranks it: every item by id, and the items that have a vector in
//! one contiguous matrix for top-K with attribute filters.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use tailor_core::{Embedding, FilterField, Gender, Item, ItemId, ItemMatrix, ItemMatrixBuilder, RowSet};
use tailor_stream::ItemVectors;

use crate::{EngineError, MatrixSearch, SearchConfig};

/// At most this many trending items of one article type open a first screen.
const TRENDING_PER_ARTICLE_TYPE: usize = 2;

/// A snapshot of the catalogue as served. Cheap to clone: the rows are shared, and a change of
/// stock makes a new snapshot with new withdrawals over the same rows.
#[derive(Clone)]
pub struct ServingCatalog {
    rows: Arc<Rows>,
    /// Items without a vector: browsed by id, never recommended.
    unranked: Arc<HashMap<ItemId, Arc<Item>>>,
    withdrawn: Arc<Withdrawn>,
}

struct Rows {
    /// The items with a vector, in matrix row order; shared with the snapshots made since.
    items: Vec<Arc<Item>>,
    matrix: ItemMatrix,
    search: MatrixSearch,
    /// Every row once, interleaving the catalogue's shelves (gender and article type); rows
    /// added while serving follow, in the order they came.
    spread: Vec<u32>,
}

/// Why an item is not served although the catalogue holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Withdrawal {
    SoldOut,
    Expired,
    Removed,
}

impl Withdrawal {
    pub fn as_str(self) -> &'static str {
        match self {
            Withdrawal::SoldOut => "sold out",
            Withdrawal::Expired => "expired",
            Withdrawal::Removed => "removed",
        }
    }
}

/// The items no answer may contain, by id, and as a set of this snapshot's rows.
#[derive(Default)]
struct Withdrawn {
    by_id: HashMap<ItemId, Withdrawal>,
    rows: RowSet,
}

impl Withdrawn {
    fn new(by_id: HashMap<ItemId, Withdrawal>, matrix: &ItemMatrix) -> Withdrawn {
        let mut rows = RowSet::new(matrix.len());
        by_id.keys().filter_map(|id| matrix.row_of(id.as_str())).for_each(|row| rows.insert(row));
        Withdrawn { by_id, rows }
    }
}

/// An item as it now is, with its content vector when the change brings one.
pub struct ItemChange {
    pub item: Item,
    pub vector: Option<Embedding>,
}

impl ServingCatalog {
    /// Items without a vector can be browsed but not recommended. Searches are exact until
    /// [`ServingCatalog::build_index`] has run, if the matrix is large enough to want an index.
    pub fn new(items: Vec<Item>, vectors: &ItemVectors, search: SearchConfig) -> Result<ServingCatalog, EngineError> {
        let (mut rankable, rest): (Vec<Item>, Vec<Item>) =
            items.into_iter().partition(|item| vectors.get(item.id().as_str()).is_some());
        // Rows grouped by category: a category filter's exact scan then reads one contiguous
        // block instead of rows scattered over the matrix (at a million items, 15 ms -> 4 ms).
        rankable.sort_by(|a, b| (&a.attributes().category, a.id()).cmp(&(&b.attributes().category, b.id())));
        let mut builder = ItemMatrixBuilder::new(vectors.dim())?;
        for item in &rankable {
            let vector = vectors.get(item.id().as_str()).expect("partitioned on having a vector");
            builder.push(item.id().clone(), item.attributes(), vector)?;
        }
        let spread = spread(&rankable);
        let rows = Rows {
            items: rankable.into_iter().map(Arc::new).collect(),
            matrix: builder.build(),
            search: MatrixSearch::new(search),
            spread,
        };
        let unranked = rest.into_iter().map(|item| (item.id().clone(), Arc::new(item))).collect();
        Ok(ServingCatalog { rows: Arc::new(rows), unranked: Arc::new(unranked), withdrawn: Arc::default() })
    }

    /// This catalogue with `changes` applied and `withdrawn` left out of every answer: a changed
    /// item keeps its row (and its vector when the change brings none), a new one with a vector
    /// gets the next row, and the approximate index, when built, gets the new and changed rows.
    /// Also returns those rows, for the model.
    pub fn with_changes(
        &self,
        changes: Vec<ItemChange>,
        withdrawn: HashMap<ItemId, Withdrawal>,
    ) -> Result<(ServingCatalog, Vec<u32>), EngineError> {
        let old = &*self.rows;
        // By row, the latest state of each changed item and the vector it brings, if any.
        let mut replaced: BTreeMap<u32, (Arc<Item>, Option<Embedding>)> = BTreeMap::new();
        let mut appended: Vec<(Arc<Item>, Embedding)> = Vec::new();
        let mut appended_at: HashMap<ItemId, usize> = HashMap::new();
        let mut unranked = (*self.unranked).clone();
        for ItemChange { item, vector } in changes {
            let item = Arc::new(item);
            if let Some(row) = old.matrix.row_of(item.id().as_str()) {
                let kept = replaced.remove(&row).and_then(|(_, earlier)| earlier);
                replaced.insert(row, (item, vector.or(kept)));
            } else if let Some(&at) = appended_at.get(item.id()) {
                appended[at] = (item, vector.unwrap_or_else(|| appended[at].1.clone()));
            } else if let Some(vector) = vector {
                unranked.remove(item.id());
                appended_at.insert(item.id().clone(), appended.len());
                appended.push((item, vector));
            } else {
                unranked.insert(item.id().clone(), item);
            }
        }
        let unranked = Arc::new(unranked);
        if replaced.is_empty() && appended.is_empty() {
            // Only items without a vector changed: the rows are shared.
            let withdrawn = Arc::new(Withdrawn::new(withdrawn, &self.rows.matrix));
            return Ok((ServingCatalog { rows: self.rows.clone(), unranked, withdrawn }, Vec::new()));
        }
        let rows_replaced: Vec<(u32, &tailor_core::Attributes, &[f32])> = replaced
            .iter()
            .map(|(&row, (item, vector))| {
                (row, item.attributes(), vector.as_ref().map_or_else(|| old.matrix.row(row), Embedding::as_slice))
            })
            .collect();
        let rows_appended: Vec<(ItemId, &tailor_core::Attributes, &[f32])> =
            appended.iter().map(|(item, vector)| (item.id().clone(), item.attributes(), vector.as_slice())).collect();
        let matrix = old.matrix.with_rows(&rows_replaced, &rows_appended)?;
        let first_appended = old.items.len() as u32;
        let changed: Vec<u32> =
            replaced.keys().copied().chain((0..appended.len() as u32).map(|i| first_appended + i)).collect();
        let search = old.search.follow(&old.matrix, &matrix, &changed)?;
        let mut items = old.items.clone();
        for (row, (item, _)) in replaced {
            items[row as usize] = item;
        }
        items.extend(appended.into_iter().map(|(item, _)| item));
        let mut spread = old.spread.clone();
        spread.extend(first_appended..items.len() as u32);
        let withdrawn = Withdrawn::new(withdrawn, &matrix);
        let rows = Rows { items, matrix, search, spread };
        Ok((ServingCatalog { rows: Arc::new(rows), unranked, withdrawn: Arc::new(withdrawn) }, changed))
    }

    /// This catalogue with `withdrawn` as the items no answer contains; the rows are shared.
    pub fn with_withdrawn(&self, withdrawn: HashMap<ItemId, Withdrawal>) -> ServingCatalog {
        let withdrawn = Withdrawn::new(withdrawn, &self.rows.matrix);
        ServingCatalog { rows: self.rows.clone(), unranked: self.unranked.clone(), withdrawn: Arc::new(withdrawn) }
    }

    /// Any item the catalogue holds, withdrawn or not.
    pub fn item(&self, id: &str) -> Option<&Item> {
        match self.rows.matrix.row_of(id) {
            Some(row) => Some(&self.rows.items[row as usize]),
            None => self.unranked.get(id).map(|item| &**item),
        }
    }

    /// An item the catalogue serves: an error naming why when it does not.
    pub fn served_item(&self, id: &str) -> Result<&Item, EngineError> {
        match self.withdrawal(id) {
            Some(why) => Err(EngineError::Withdrawn { id: id.to_owned(), why }),
            None => self.item(id).ok_or_else(|| EngineError::UnknownItem(id.to_owned())),
        }
    }

    /// Why `id` is withdrawn, when it is.
    pub fn withdrawal(&self, id: &str) -> Option<Withdrawal> {
        self.withdrawn.by_id.get(id).copied()
    }

    /// Whether the item of a matrix row is withdrawn.
    pub fn is_withdrawn(&self, row: u32) -> bool {
        self.withdrawn.rows.contains(row)
    }

    /// The withdrawn rows, as a set to exclude from a search.
    pub fn withdrawn_rows(&self) -> RowSet {
        let mut rows = self.withdrawn.rows.clone();
        rows.grow(self.matrix().len());
        rows
    }

    /// The item of a matrix row.
    pub fn item_at(&self, row: u32) -> &Item {
        &self.rows.items[row as usize]
    }

    /// What a shopper sees as the same product: the title and colour, case and spacing aside;
    /// `None` for an item without a title.
    pub fn listing(&self, row: u32) -> Option<String> {
        let item = self.item_at(row);
        let colour = item.attributes().colour.as_deref().unwrap_or("");
        let mut listing = String::new();
        for word in item.title()?.split_whitespace().chain(colour.split_whitespace()) {
            if !listing.is_empty() {
                listing.push(' ');
            }
            listing.extend(word.chars().flat_map(char::to_lowercase));
        }
        Some(listing)
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

    /// Every item: those with a vector in row order, then the others.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.rows.items.iter().chain(self.unranked.values()).map(|item| &**item)
    }

    pub fn len(&self) -> usize {
        self.rows.items.len() + self.unranked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn matrix(&self) -> &ItemMatrix {
        &self.rows.matrix
    }

    /// Searches the content vectors.
    pub fn search(&self) -> &MatrixSearch {
        &self.rows.search
    }

    /// Builds the approximate index over the content vectors, when there are enough of them to
    /// want one; minutes at a million items, so callers run it beside serving. Snapshots made
    /// since share it.
    pub fn build_index(&self) -> Result<(), EngineError> {
        self.rows.search.build(&self.rows.matrix, "content")
    }

    /// Every row once, in an order that takes one item from each shelf (gender and article type)
    /// in turn, larger shelves first: any stretch of it, and any filtered part of it, covers the
    /// catalogue rather than one shelf.
    pub fn spread(&self) -> &[u32] {
        &self.rows.spread
    }

    /// The rows of the trending ids, most popular first within each article type, taking one of
    /// each type in turn and at most two of any: a first screen of what is popular that is not a
    /// wall of one kind of item, even when few items trend (the spread follows them). By article
    /// type alone, not by gender too: counted apart, men's, women's, boys' and kids' sports shoes
    /// made half a first screen of sports shoes.
    pub fn trending_rows(&self, trending: &[(Box<str>, f64)]) -> Vec<u32> {
        let matrix = self.matrix();
        // The matrix's article-type codes ignore case, as the shelves do.
        let mut taken: HashMap<u32, usize> = HashMap::new();
        let mut rows: Vec<(usize, u32)> = trending
            .iter()
            .filter_map(|(id, _)| matrix.row_of(id))
            .map(|row| {
                let turn = taken.entry(matrix.code(row, FilterField::ArticleType)).or_default();
                *turn += 1;
                (*turn, row)
            })
            .collect();
        // Stable: within a turn, the most popular type's item comes first.
        rows.retain(|&(turn, _)| turn <= TRENDING_PER_ARTICLE_TYPE);
        rows.sort_by_key(|&(turn, _)| turn);
        rows.into_iter().map(|(_, row)| row).collect()
    }

    /// A visitor's first screen without trending items: the spread's served items, those with
    /// photos only (a catalogue without any still gets one).
    pub fn onboarding(&self) -> impl Iterator<Item = u32> + '_ {
        let has_photo = self.spread().iter().any(|&row| self.item_at(row).image().is_some());
        let served = move |row: &u32| !self.is_withdrawn(*row) && (!has_photo || self.item_at(*row).image().is_some());
        self.spread().iter().copied().filter(served)
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

#[cfg(test)]
mod tests {
    use tailor_core::Attributes;

    use super::*;

    fn shop(items: &[(&str, Gender, &str)]) -> ServingCatalog {
        let mut vectors = ItemVectors::new(2);
        let items = items
            .iter()
            .map(|&(id, gender, article)| {
                let id = ItemId::new(id).unwrap();
                vectors.insert(id.clone(), Embedding::new(vec![1.0, 0.0], 2).unwrap()).unwrap();
                let attributes =
                    Attributes { gender: Some(gender), article_type: Some(article.into()), ..Attributes::default() };
                Item::new(id.clone(), Some(id.to_string()), None, None, attributes).unwrap()
            })
            .collect();
        ServingCatalog::new(items, &vectors, SearchConfig::default()).unwrap()
    }

    #[test]
    fn trending_takes_each_article_type_in_turn_and_two_at_most_whatever_the_gender() {
        let catalog = shop(&[
            ("men-shoe", Gender::Men, "Sports Shoes"),
            ("women-shoe", Gender::Women, "Sports Shoes"),
            ("boys-shoe", Gender::Boys, "sports shoes"),
            ("tshirt", Gender::Men, "Tshirts"),
            ("dress", Gender::Women, "Dresses"),
            ("second-dress", Gender::Women, "Dresses"),
        ]);
        let trending: Vec<(Box<str>, f64)> =
            ["men-shoe", "women-shoe", "boys-shoe", "dress", "unknown", "second-dress", "tshirt"]
                .iter()
                .enumerate()
                .map(|(i, &id)| (id.into(), 10.0 - i as f64))
                .collect();
        let ids: Vec<&str> =
            catalog.trending_rows(&trending).into_iter().map(|row| catalog.item_at(row).id().as_str()).collect();
        assert_eq!(ids, ["men-shoe", "dress", "tshirt", "women-shoe", "second-dress"]);
    }
}
