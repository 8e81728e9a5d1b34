//! The persona file: a version and a list of personas, each a description plus attribute
//! preferences. Values are matched case-insensitively against the catalogue.

use std::collections::HashSet;

use serde::Deserialize;
use tailor_core::{Gender, PriceBand};

use crate::PersonaError;

/// The personas shipped with Tailor, written for the Myntra catalogue's vocabulary.
pub const DEFAULT_PERSONAS: &str = include_str!("../personas.toml");

const SUPPORTED_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonaFile {
    pub version: u32,
    #[serde(rename = "persona")]
    pub personas: Vec<Persona>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    pub name: String,
    /// Embedded in the joint space and compared with each item's vector.
    pub description: String,
    /// Each synthetic user shops for one of these.
    pub genders: Vec<Gender>,
    #[serde(default)]
    pub colours: Vec<String>,
    #[serde(default)]
    pub article_types: Vec<String>,
    #[serde(default)]
    pub usages: Vec<String>,
    #[serde(default)]
    pub seasons: Vec<String>,
    #[serde(default)]
    pub price_bands: Vec<PriceBand>,
}

impl PersonaFile {
    pub fn parse(text: &str) -> Result<PersonaFile, PersonaError> {
        let mut file: PersonaFile = toml::from_str(text).map_err(|e| PersonaError::Unreadable(e.to_string()))?;
        if file.version != SUPPORTED_VERSION {
            return Err(PersonaError::UnsupportedVersion { found: file.version, supported: SUPPORTED_VERSION });
        }
        if file.personas.is_empty() {
            return Err(PersonaError::Unreadable("it defines no [[persona]]".into()));
        }
        let mut names = HashSet::new();
        for persona in &mut file.personas {
            let invalid = |reason: &str| PersonaError::Invalid { name: persona.name.clone(), reason: reason.into() };
            if !names.insert(persona.name.clone()) {
                return Err(invalid("defined twice"));
            }
            if persona.name.is_empty() || !persona.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(invalid("names are ASCII letters, digits and '-'"));
            }
            if persona.description.trim().is_empty() {
                return Err(invalid("the description is empty"));
            }
            if persona.genders.is_empty() {
                return Err(invalid("lists no gender"));
            }
            for list in [&mut persona.colours, &mut persona.article_types, &mut persona.usages, &mut persona.seasons] {
                list.iter_mut().for_each(|value| *value = value.trim().to_lowercase());
            }
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_with_at_least_eight_personas() {
        let file = PersonaFile::parse(DEFAULT_PERSONAS).unwrap();
        assert!(file.personas.len() >= 8);
        for name in ["minimal", "casual", "formal", "athletic"] {
            assert!(file.personas.iter().any(|p| p.name == name), "{name} is missing");
        }
    }

    #[test]
    fn bad_files_name_the_problem() {
        let error = |text: &str| PersonaFile::parse(text).unwrap_err().to_string();
        assert!(error("version = 2\n[[persona]]\nname='a'\ndescription='d'\ngenders=['men']").contains("version 2"));
        assert!(error("version = 1\npersona = []").contains("no [[persona]]"));
        assert!(error("version = 1\n[[persona]]\nname='a'\ndescription=''\ngenders=['men']").contains("empty"));
        assert!(error("version = 1\n[[persona]]\nname='a'\ndescription='d'\ngenders=['robots']").contains("robots"));
        let block = "[[persona]]\nname='a'\ndescription='d'\ngenders=['men']\n";
        assert!(error(&format!("version = 1\n{block}{block}")).contains("defined twice"));
        assert!(
            error("version = 1\n[[persona]]\nname='a'\ndescription='d'\ngenders=['men']\ncolour=['red']")
                .contains("unknown field")
        );
    }
}
