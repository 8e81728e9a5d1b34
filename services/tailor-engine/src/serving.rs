//! What a request ranks with, as one snapshot: the catalogue and the model built over its rows.
//! A change makes a new snapshot from the current one, so a request never sees a model whose
//! rows are not its catalogue's.

use std::collections::HashMap;
use std::sync::Arc;

use tailor_core::ItemId;

use crate::{ActiveModel, EngineError, ItemChange, ServingCatalog, Withdrawal};

#[derive(Clone)]
pub struct Serving {
    pub catalog: ServingCatalog,
    pub model: Option<Arc<ActiveModel>>,
}

impl Serving {
    pub fn new(catalog: ServingCatalog) -> Serving {
        Serving { catalog, model: None }
    }

    /// Items added or changed, with `withdrawn` as the items no answer contains: the
    /// catalogue's rows, and the model's item-tower rows for them.
    pub fn with_changes(
        &self,
        changes: Vec<ItemChange>,
        withdrawn: HashMap<ItemId, Withdrawal>,
    ) -> Result<Serving, EngineError> {
        let (catalog, changed) = self.catalog.with_changes(changes, withdrawn)?;
        let model = match &self.model {
            Some(model) if !changed.is_empty() => Some(Arc::new(model.follow(&self.catalog, &catalog, &changed)?)),
            unchanged => unchanged.clone(),
        };
        Ok(Serving { catalog, model })
    }

    /// The same rows with `withdrawn` left out of every answer.
    pub fn with_withdrawn(&self, withdrawn: HashMap<ItemId, Withdrawal>) -> Serving {
        Serving { catalog: self.catalog.with_withdrawn(withdrawn), model: self.model.clone() }
    }

    /// `model`, built over this catalogue, in place of the one serving.
    pub fn with_model(&self, model: ActiveModel) -> Serving {
        Serving { catalog: self.catalog.clone(), model: Some(Arc::new(model)) }
    }
}
