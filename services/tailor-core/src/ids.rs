use std::fmt;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Long enough for any shop's SKU or a UUID, short enough to keep keys and logs tidy.
const MAX_ID_BYTES: usize = 128;

/// Ids appear in URL paths, Kafka keys and file names, so they are limited to characters that need
/// no escaping anywhere.
fn validate(kind: &'static str, id: &str) -> Result<(), CoreError> {
    if id.is_empty() {
        return Err(CoreError::EmptyId { kind });
    }
    if id.len() > MAX_ID_BYTES {
        return Err(CoreError::IdTooLong { kind, len: id.len(), max: MAX_ID_BYTES });
    }
    match id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))) {
        Some(found) => Err(CoreError::InvalidIdCharacter { kind, id: id.to_owned(), found }),
        None => Ok(()),
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        /// Shared, not copied, when cloned: the serving catalogue's snapshots hold every id twice.
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(std::sync::Arc<str>);

        impl $name {
            pub fn new(id: impl Into<String>) -> Result<Self, CoreError> {
                let id = id.into();
                validate($kind, &id)?;
                Ok(Self(id.into()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = CoreError;
            fn try_from(id: String) -> Result<Self, CoreError> {
                Self::new(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }

        /// Lets maps keyed by the id be searched with a `&str`; the derived `Hash` hashes the
        /// inner string, so the two agree.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A catalogue item, as the shop names it.
    ItemId,
    "item"
);
id_type!(
    /// A known, signed-in shopper.
    UserId,
    "user"
);
id_type!(
    /// An anonymous visitor's browser session.
    SessionId,
    "session"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_shop_style_ids() {
        for id in ["15970", "0108775015", "sku-AB_12.3:x"] {
            assert_eq!(ItemId::new(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn rejects_empty_long_and_unsafe_ids() {
        assert_eq!(ItemId::new(""), Err(CoreError::EmptyId { kind: "item" }));
        assert!(matches!(UserId::new("x".repeat(129)), Err(CoreError::IdTooLong { len: 129, .. })));
        assert!(matches!(
            SessionId::new("a/b"),
            Err(CoreError::InvalidIdCharacter { found: '/', kind: "session", .. })
        ));
        assert!(matches!(ItemId::new("a b"), Err(CoreError::InvalidIdCharacter { found: ' ', .. })));
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<ItemId>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<ItemId>("\"not ok\"").is_err());
    }
}
