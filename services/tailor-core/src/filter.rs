use std::collections::HashMap;

use crate::{Attributes, CoreError};

/// The attributes a recommendation request can be restricted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterField {
    Gender,
    Category,
    SubCategory,
    ArticleType,
    Colour,
    Season,
    Usage,
    Brand,
}

impl FilterField {
    pub const ALL: [FilterField; 8] = [
        FilterField::Gender,
        FilterField::Category,
        FilterField::SubCategory,
        FilterField::ArticleType,
        FilterField::Colour,
        FilterField::Season,
        FilterField::Usage,
        FilterField::Brand,
    ];
    pub(crate) const COUNT: usize = Self::ALL.len();

    pub fn name(self) -> &'static str {
        match self {
            FilterField::Gender => "gender",
            FilterField::Category => "category",
            FilterField::SubCategory => "sub_category",
            FilterField::ArticleType => "article_type",
            FilterField::Colour => "colour",
            FilterField::Season => "season",
            FilterField::Usage => "usage",
            FilterField::Brand => "brand",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn value(self, attributes: &Attributes) -> Option<&str> {
        match self {
            FilterField::Gender => attributes.gender.map(|g| g.as_str()),
            FilterField::Category => attributes.category.as_deref(),
            FilterField::SubCategory => attributes.sub_category.as_deref(),
            FilterField::ArticleType => attributes.article_type.as_deref(),
            FilterField::Colour => attributes.colour.as_deref(),
            FilterField::Season => attributes.season.as_deref(),
            FilterField::Usage => attributes.usage.as_deref(),
            FilterField::Brand => attributes.brand.as_deref(),
        }
    }
}

/// Attribute constraints, all of which an item must meet. Values match case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttributeFilter {
    constraints: Vec<(FilterField, String)>,
}

impl AttributeFilter {
    pub fn with(mut self, field: FilterField, value: impl Into<String>) -> Self {
        self.constraints.push((field, value.into()));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.constraints.is_empty()
    }

    /// Whether the filter restricts `field`.
    pub fn constrains(&self, field: FilterField) -> bool {
        self.constraints.iter().any(|(f, _)| *f == field)
    }
}

/// Interned attribute values of one field, so a filter test is an integer comparison.
/// Code 0 means "no value".
#[derive(Clone, Debug, Default)]
pub(crate) struct Vocabulary {
    codes: HashMap<String, u32>,
}

impl Vocabulary {
    pub(crate) fn intern(&mut self, value: Option<&str>) -> u32 {
        let Some(value) = value else { return 0 };
        let next = self.codes.len() as u32 + 1;
        *self.codes.entry(value.to_lowercase()).or_insert(next)
    }

    pub(crate) fn code(&self, value: &str) -> Option<u32> {
        self.codes.get(&value.to_lowercase()).copied()
    }
}

pub(crate) type RowCodes = [u32; FilterField::COUNT];

/// An [`AttributeFilter`] checked against one item matrix's vocabularies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedFilter {
    required: Vec<(usize, u32)>,
}

impl ResolvedFilter {
    pub(crate) fn resolve(
        filter: &AttributeFilter,
        vocabularies: &[Vocabulary; FilterField::COUNT],
    ) -> Result<ResolvedFilter, CoreError> {
        let required = filter
            .constraints
            .iter()
            .map(|(field, value)| {
                vocabularies[field.index()]
                    .code(value)
                    .map(|code| (field.index(), code))
                    .ok_or_else(|| CoreError::UnknownAttributeValue { field: field.name(), value: value.clone() })
            })
            .collect::<Result<_, _>>()?;
        Ok(ResolvedFilter { required })
    }

    /// Each required (field index, code).
    pub(crate) fn required(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.required.iter().copied()
    }

    pub(crate) fn matches(&self, codes: &RowCodes) -> bool {
        self.required.iter().all(|&(field, code)| codes[field] == code)
    }
}
