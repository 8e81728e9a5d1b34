//! Browsing the catalogue for onboarding: filters, a title search, photos only, in id order or
//! spread over the shelves, a page at a time.

use std::collections::HashSet;

use tailor_core::{AttributeFilter, Item};

use crate::{EngineError, ServingCatalog};

/// Longest accepted title search, in characters: titles are shorter than this.
const MAX_QUERY_CHARS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Id,
    /// One item from each shelf in turn (see [`ServingCatalog::spread`]).
    Spread,
    /// The trending items first, most popular first, then the spread.
    Trending,
}

pub struct Browse<'a> {
    pub filter: &'a AttributeFilter,
    /// A title search: every word of it in the title, case-insensitively.
    pub query: &'a str,
    pub with_photo: bool,
    pub order: Order,
    pub offset: usize,
    pub limit: usize,
    /// Items by how popular they are now, for [`Order::Trending`].
    pub trending: &'a [(Box<str>, f64)],
}

/// A page of items and how many match in all.
pub struct Page<'c> {
    pub items: Vec<&'c Item>,
    pub total: usize,
}

impl ServingCatalog {
    pub fn browse(&self, browse: &Browse<'_>) -> Result<Page<'_>, EngineError> {
        let chars = browse.query.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(EngineError::BadInput {
                name: "q",
                reason: format!("{chars} characters; at most {MAX_QUERY_CHARS}"),
            });
        }
        let words: Vec<String> = browse.query.split_whitespace().map(str::to_lowercase).collect();
        let matrix = self.matrix();
        let filter = matrix.resolve(browse.filter).map_err(EngineError::bad_input("filter"))?;
        let rows: Box<dyn Iterator<Item = u32>> = match browse.order {
            Order::Id => Box::new(0..matrix.len() as u32),
            Order::Spread => Box::new(self.spread().iter().copied()),
            Order::Trending => {
                let trending = self.trending_rows(browse.trending);
                let first: HashSet<u32> = trending.iter().copied().collect();
                let rest = self.spread().iter().copied().filter(move |row| !first.contains(row));
                Box::new(trending.into_iter().chain(rest))
            }
        };
        let matching: Vec<u32> = rows
            .filter(|&row| !self.is_withdrawn(row) && matrix.passes(row, &filter))
            .filter(|&row| !browse.with_photo || self.item_at(row).image().is_some())
            .filter(|&row| {
                words.is_empty() || {
                    let title = self.item_at(row).title().unwrap_or_default().to_lowercase();
                    words.iter().all(|word| title.contains(word.as_str()))
                }
            })
            .collect();
        let items = matching.iter().skip(browse.offset).take(browse.limit).map(|&row| self.item_at(row)).collect();
        Ok(Page { items, total: matching.len() })
    }
}
