//! The fused content vector of each item, the input the visitor aggregate is built from. On disk
//! it is a safetensors file: one `vectors` tensor (f32, items x dim) and the item ids, in row
//! order, as a JSON array in the `ids` metadata entry.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::{SafeTensors, serialize_to_file};
use tailor_core::{Embedding, ItemId, temporary_beside};

use crate::ModelError;

const VECTORS: &str = "vectors";
const IDS: &str = "ids";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemVectors {
    dim: usize,
    vectors: HashMap<ItemId, Embedding>,
}

impl ItemVectors {
    pub fn new(dim: usize) -> ItemVectors {
        ItemVectors { dim, vectors: HashMap::new() }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// Adds or replaces an item's vector; its dimension must match.
    pub fn insert(&mut self, id: ItemId, vector: Embedding) -> Result<(), ModelError> {
        if vector.dim() != self.dim {
            return Err(tailor_core::CoreError::DimensionMismatch { expected: self.dim, found: vector.dim() }.into());
        }
        self.vectors.insert(id, vector);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Embedding> {
        self.vectors.get(id)
    }

    /// Every item and its vector, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&ItemId, &Embedding)> {
        self.vectors.iter()
    }

    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let mut ids: Vec<&ItemId> = self.vectors.keys().collect();
        ids.sort();
        let data: Vec<u8> =
            ids.iter().flat_map(|id| self.vectors[*id].as_slice().iter().flat_map(|x| x.to_le_bytes())).collect();
        let view = TensorView::new(Dtype::F32, vec![ids.len(), self.dim], &data)
            .map_err(|e| ModelError::ItemVectors { path: path.to_path_buf(), reason: e.to_string() })?;
        let ids_json = serde_json::to_string(&ids).expect("ids serialise");
        // Written beside and renamed over, so a reader (or a crash) never meets half a file.
        let temporary = temporary_beside(path);
        serialize_to_file([(VECTORS, view)], Some(HashMap::from([(IDS.to_owned(), ids_json)])), &temporary)
            .map_err(|e| ModelError::ItemVectors { path: path.to_path_buf(), reason: e.to_string() })?;
        File::open(&temporary)
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(ModelError::io(format!("replacing {}", path.display())))
    }

    pub fn load(path: &Path) -> Result<ItemVectors, ModelError> {
        let unusable = |reason: String| ModelError::ItemVectors { path: path.to_path_buf(), reason };
        let bytes = std::fs::read(path).map_err(ModelError::io(format!("reading {}", path.display())))?;
        let (_, metadata) = SafeTensors::read_metadata(&bytes).map_err(|e| unusable(e.to_string()))?;
        let ids_json = metadata
            .metadata()
            .as_ref()
            .and_then(|m| m.get(IDS))
            .ok_or_else(|| unusable(format!("no {IDS:?} metadata entry")))?;
        let ids: Vec<String> = serde_json::from_str(ids_json).map_err(|e| unusable(format!("{IDS}: {e}")))?;
        let tensors = SafeTensors::deserialize(&bytes).map_err(|e| unusable(e.to_string()))?;
        let tensor = tensors.tensor(VECTORS).map_err(|e| unusable(e.to_string()))?;
        let [rows, dim] = tensor.shape() else {
            return Err(unusable(format!("{VECTORS} has shape {:?}, expected [items, dim]", tensor.shape())));
        };
        if tensor.dtype() != Dtype::F32 || *rows != ids.len() {
            return Err(unusable(format!(
                "{VECTORS} is {:?} {rows}x{dim} for {} ids; expected F32 with one row per id",
                tensor.dtype(),
                ids.len()
            )));
        }
        let values: Vec<f32> =
            tensor.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        let mut vectors = ItemVectors::new(*dim);
        for (row, id) in values.chunks_exact(*dim).zip(ids) {
            let item = ItemId::new(&id).map_err(|e| unusable(e.to_string()))?;
            let vector = Embedding::from_unit(row.to_vec(), *dim).map_err(|e| unusable(format!("item {id}: {e}")))?;
            vectors.vectors.insert(item, vector);
        }
        Ok(vectors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.safetensors");
        let mut items = ItemVectors::new(3);
        items.insert(ItemId::new("a").unwrap(), Embedding::new(vec![1.0, 2.0, 2.0], 3).unwrap()).unwrap();
        items.insert(ItemId::new("b").unwrap(), Embedding::new(vec![0.0, 0.0, 5.0], 3).unwrap()).unwrap();
        items.save(&path).unwrap();
        assert_eq!(ItemVectors::load(&path).unwrap(), items);
        assert!(items.insert(ItemId::new("c").unwrap(), Embedding::new(vec![1.0], 1).unwrap()).is_err());
    }

    #[test]
    fn a_file_without_ids_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        let data = vec![0u8; 12];
        let view = TensorView::new(Dtype::F32, vec![1, 3], &data).unwrap();
        serialize_to_file([(VECTORS, view)], None, &path).unwrap();
        let err = ItemVectors::load(&path).unwrap_err().to_string();
        assert!(err.contains("no \"ids\" metadata entry"), "{err}");
    }
}
