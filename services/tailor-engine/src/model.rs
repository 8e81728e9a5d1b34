//! The Two-Tower model as serving runs it: the user tower, and the item-tower outputs in a matrix
//! whose rows are the content matrix's rows, so exclusions, filters and reasons carry over.
//! Items the model was not trained with (added since) get their row from the item tower here.
//! A matrix large enough for an approximate index gets it here, before the model serves.

use std::collections::BTreeMap;

use tailor_core::{Embedding, ItemMatrix, ItemMatrixBuilder, Tower};
use tailor_models::{Blend, LoadedModel, TwoTowerWeights};

use crate::{EngineError, MatrixSearch, ServingCatalog};

pub struct ActiveModel {
    pub version: u64,
    pub user_tower: Tower,
    pub matrix: ItemMatrix,
    pub search: MatrixSearch,
    /// The version's evaluation figures, from its manifest.
    pub metrics: BTreeMap<String, f64>,
    /// How ranking weighs this model against content similarity to the picks.
    pub blend: Blend,
    /// Rows computed here because the published matrix lacked them.
    pub computed_rows: usize,
    /// The item tower, for rows of items added while serving.
    pub towers: TwoTowerWeights,
}

impl ActiveModel {
    pub fn new(catalog: &ServingCatalog, loaded: LoadedModel) -> Result<ActiveModel, EngineError> {
        let content = catalog.matrix();
        let towers = &loaded.towers;
        let version = loaded.manifest.version;
        let mismatch = |what: String| EngineError::ModelMismatch { version, reason: what };
        if towers.user.input() != content.dim() {
            return Err(mismatch(format!(
                "its user tower reads {} numbers but the item vectors have {}",
                towers.user.input(),
                content.dim()
            )));
        }
        if towers.item.input() != towers.item_input_width(content.dim()) {
            return Err(mismatch(format!(
                "its item tower reads {} numbers, not the {} its vocabulary and the item vectors make",
                towers.item.input(),
                towers.item_input_width(content.dim())
            )));
        }
        let mut builder = ItemMatrixBuilder::new(towers.item.output())?;
        let mut computed_rows = 0;
        for row in 0..content.len() as u32 {
            let id = content.id(row);
            let attributes = catalog.item(id.as_str()).expect("matrix rows are catalogue items").attributes();
            let vector = match loaded.item_vectors.get(id.as_str()) {
                Some(vector) => vector.clone(),
                None => {
                    computed_rows += 1;
                    towers.item_vector(content.row(row), attributes)?
                }
            };
            builder.push(id.clone(), attributes, &vector)?;
        }
        let matrix = builder.build();
        let search = MatrixSearch::new(catalog.search().config().clone());
        search.build(&matrix, "model")?;
        Ok(ActiveModel {
            version,
            user_tower: loaded.towers.user.clone(),
            matrix,
            search,
            metrics: loaded.manifest.metrics,
            blend: loaded.manifest.blend.unwrap_or_else(default_blend),
            computed_rows,
            towers: loaded.towers,
        })
    }

    /// This model over `catalog`, a later snapshot of `old` whose rows `changed` (ascending) are
    /// new or changed: their item-tower rows are computed here when the tower reads something
    /// new of them, and every other row is shared.
    pub fn follow(
        &self,
        old: &ServingCatalog,
        catalog: &ServingCatalog,
        changed: &[u32],
    ) -> Result<ActiveModel, EngineError> {
        let content = catalog.matrix();
        let mut computed_rows = self.computed_rows;
        let mut rows = Vec::with_capacity(changed.len());
        for &row in changed {
            let item = catalog.item_at(row);
            let input = self.towers.item_input(content.row(row), item.attributes());
            let kept = (row as usize) < self.matrix.len()
                && self.towers.item_input(old.matrix().row(row), old.item_at(row).attributes()) == input;
            let vector = if kept {
                self.matrix.row(row).to_vec()
            } else {
                computed_rows += 1;
                self.towers.item.forward(&input)?.as_slice().to_vec()
            };
            rows.push((row, item, vector));
        }
        let (appended, replaced): (Vec<_>, Vec<_>) =
            rows.iter().partition(|(row, _, _)| *row as usize >= self.matrix.len());
        let replaced: Vec<_> = replaced.iter().map(|(row, item, v)| (*row, item.attributes(), v.as_slice())).collect();
        let appended: Vec<_> =
            appended.iter().map(|(_, item, v)| (item.id().clone(), item.attributes(), v.as_slice())).collect();
        let matrix = self.matrix.with_rows(&replaced, &appended)?;
        let search = self.search.follow(&self.matrix, &matrix, changed)?;
        Ok(ActiveModel {
            version: self.version,
            user_tower: self.user_tower.clone(),
            matrix,
            search,
            metrics: self.metrics.clone(),
            blend: self.blend.clone(),
            computed_rows,
            towers: self.towers.clone(),
        })
    }

    /// The query for a taste vector in the content space.
    pub fn query(&self, taste: &Embedding) -> Result<Embedding, EngineError> {
        Ok(self.user_tower.forward(taste.as_slice())?)
    }
}

/// The blend for versions trained before blends were chosen at training: content alone for a
/// first pick, the model's share growing to 0.4 at five, and the configured default's weight on
/// the picks' shared attributes.
pub fn default_blend() -> Blend {
    let attributes = crate::RankingConfig::default().attribute_weight;
    Blend { model_weight: vec![0.0, 0.0, 0.1, 0.2, 0.3, 0.4], attribute_weight: vec![attributes] }
}
