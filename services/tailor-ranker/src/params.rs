//! Query parameters: each route names the ones it accepts, so a misspelt one is an error rather
//! than silently ignored.

use std::collections::HashMap;

use tailor_core::{AttributeFilter, FilterField};

use crate::ApiError;

pub const MAX_K: usize = 100;
pub const MAX_PAGE: usize = 200;

pub struct Params(HashMap<String, String>);

impl Params {
    /// Checks that every parameter is a filter field or one of `also`.
    pub fn new(raw: HashMap<String, String>, also: &[&'static str]) -> Result<Params, ApiError> {
        for name in raw.keys() {
            let known = also.contains(&name.as_str()) || FilterField::ALL.iter().any(|f| f.name() == name);
            if !known {
                let mut allowed: Vec<&str> = also.to_vec();
                allowed.extend(FilterField::ALL.iter().map(|f| f.name()));
                return Err(ApiError::InvalidParameter {
                    name: "query",
                    reason: format!("unknown parameter {name:?}; known: {}", allowed.join(", ")),
                });
            }
        }
        Ok(Params(raw))
    }

    pub fn filter(&self) -> AttributeFilter {
        let mut filter = AttributeFilter::default();
        for field in FilterField::ALL {
            if let Some(value) = self.0.get(field.name()).filter(|v| !v.is_empty()) {
                filter = filter.with(field, value.clone());
            }
        }
        filter
    }

    /// A count in `1..=max`, `default` when absent.
    pub fn count(&self, name: &'static str, default: usize, max: usize) -> Result<usize, ApiError> {
        self.number(name, default, 1, max)
    }

    /// `diversity`: a number from 0 (pure relevance, the default) to 1.
    pub fn diversity(&self) -> Result<f32, ApiError> {
        let Some(text) = self.0.get("diversity") else { return Ok(0.0) };
        check_diversity(text.parse::<f64>().ok(), text)
    }

    /// A `true` or `false` parameter; `false` when absent.
    pub fn flag(&self, name: &'static str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::InvalidParameter { name, reason: format!("{other:?} is not true or false") }),
        }
    }

    pub fn offset(&self) -> Result<usize, ApiError> {
        self.number("offset", 0, 0, usize::MAX)
    }

    fn number(&self, name: &'static str, default: usize, min: usize, max: usize) -> Result<usize, ApiError> {
        let Some(text) = self.0.get(name) else { return Ok(default) };
        match text.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::InvalidParameter {
                name,
                reason: format!("{text:?} is not a whole number from {min} to {max}"),
            }),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Checked before narrowing to `f32`: a value just below 0 (`-1e-323`) rounds to -0.0 there,
/// which would pass the range.
pub fn check_diversity(value: Option<f64>, given: &str) -> Result<f32, ApiError> {
    match value {
        Some(d) if (0.0..=1.0).contains(&d) => Ok(d as f32),
        _ => Err(ApiError::InvalidParameter {
            name: "diversity",
            reason: format!("{given} is not a number from 0 to 1"),
        }),
    }
}

/// A filter given in a JSON body: the same field names as the query parameters.
pub fn filter_from_map(map: &HashMap<String, String>) -> Result<AttributeFilter, ApiError> {
    Params::new(map.clone(), &[]).map(|p| p.filter())
}
