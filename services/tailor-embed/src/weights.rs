//! Loading pretrained weights into a `VarStore` by name.

use std::collections::HashMap;
use std::path::Path;

use tch::{Tensor, nn};

use crate::EmbedError;

/// Loads every variable of `vs` from a safetensors file, checking names and shapes; extra entries
/// in the file (a classifier, batch-norm counters) are ignored.
pub(crate) fn load_weights(vs: &mut nn::VarStore, path: &Path) -> Result<(), EmbedError> {
    let unusable = |reason: String| EmbedError::Weights { path: path.to_path_buf(), reason };
    let tensors: HashMap<String, Tensor> =
        Tensor::read_safetensors(path).map_err(|e| unusable(e.to_string()))?.into_iter().collect();
    let mut variables = vs.variables();
    let mut names: Vec<&String> = variables.keys().collect();
    names.sort();
    for name in names {
        let source = tensors.get(name).ok_or_else(|| unusable(format!("no tensor named {name}")))?;
        let target = &variables[name];
        if source.size() != target.size() {
            return Err(unusable(format!("{name} has shape {:?}, expected {:?}", source.size(), target.size())));
        }
    }
    tch::no_grad(|| {
        for (name, target) in variables.iter_mut() {
            target.copy_(&tensors[name].to_kind(target.kind()));
        }
    });
    Ok(())
}
