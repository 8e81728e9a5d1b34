//! The exported Two-Tower model as one safetensors file: each tower's layers as
//! `{tower}.{layer}.weight` [output, input] and `{tower}.{layer}.bias`, the rating head's two
//! parameters, and the item tower's feature vocabulary as JSON metadata.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::{SafeTensors, serialize};
use tailor_core::{Attributes, CoreError, Dense, Embedding, FeatureVocabulary, RatingHead, Tower};

use crate::ModelError;

const VOCABULARY: &str = "vocabulary";
const HEAD_RAW_SLOPE: &str = "head.raw_slope";
const HEAD_BIAS: &str = "head.bias";

#[derive(Clone, Debug, PartialEq)]
pub struct TwoTowerWeights {
    pub user: Tower,
    pub item: Tower,
    pub head: RatingHead,
    /// The attribute blocks appended to the item tower's content input; `None` when the item
    /// tower reads the content vector alone.
    pub vocabulary: Option<FeatureVocabulary>,
}

fn bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl TwoTowerWeights {
    /// The file's bytes; the model store writes them to a staging directory first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, tower) in [("user", &self.user), ("item", &self.item)] {
            for (i, layer) in tower.layers().iter().enumerate() {
                tensors.push((
                    format!("{name}.{i}.weight"),
                    vec![layer.output(), layer.input()],
                    bytes(layer.weights()),
                ));
                tensors.push((format!("{name}.{i}.bias"), vec![layer.output()], bytes(layer.bias())));
            }
        }
        let (raw_slope, bias) = self.head.parameters();
        tensors.push((HEAD_RAW_SLOPE.to_owned(), vec![1], bytes(&[raw_slope])));
        tensors.push((HEAD_BIAS.to_owned(), vec![1], bytes(&[bias])));
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(name, shape, data)| {
                (name.clone(), TensorView::new(Dtype::F32, shape.clone(), data).expect("shape matches data"))
            })
            .collect();
        let metadata = self.vocabulary.as_ref().map(|v| {
            HashMap::from([(VOCABULARY.to_owned(), serde_json::to_string(v).expect("vocabulary serialises"))])
        });
        serialize(views, metadata).expect("tensors serialise")
    }

    pub fn load(path: &Path) -> Result<TwoTowerWeights, ModelError> {
        let unusable = |reason: String| ModelError::Towers { path: path.to_path_buf(), reason };
        let data = std::fs::read(path).map_err(ModelError::io(format!("reading {}", path.display())))?;
        let (_, metadata) = SafeTensors::read_metadata(&data).map_err(|e| unusable(e.to_string()))?;
        let vocabulary = match metadata.metadata().as_ref().and_then(|m| m.get(VOCABULARY)) {
            Some(json) => Some(
                serde_json::from_str::<FeatureVocabulary>(json)
                    .map_err(|e| unusable(format!("{VOCABULARY}: {e}")))?
                    .check()?,
            ),
            None => None,
        };
        let tensors = SafeTensors::deserialize(&data).map_err(|e| unusable(e.to_string()))?;
        let read = |name: &str| -> Result<(Vec<usize>, Vec<f32>), ModelError> {
            let tensor = tensors.tensor(name).map_err(|e| unusable(format!("{name}: {e}")))?;
            if tensor.dtype() != Dtype::F32 {
                return Err(unusable(format!("{name} is {:?}, expected F32", tensor.dtype())));
            }
            let values = tensor.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")));
            Ok((tensor.shape().to_vec(), values.collect()))
        };
        let tower = |name: &str| -> Result<Tower, ModelError> {
            let mut layers = Vec::new();
            while tensors.names().iter().any(|n| **n == format!("{name}.{}.weight", layers.len())) {
                let i = layers.len();
                let (shape, weights) = read(&format!("{name}.{i}.weight"))?;
                let [_, input] = shape[..] else {
                    return Err(unusable(format!("{name}.{i}.weight has shape {shape:?}, expected [output, input]")));
                };
                let (_, bias) = read(&format!("{name}.{i}.bias"))?;
                layers.push(Dense::new(weights, bias, input).map_err(|e| unusable(format!("{name}.{i}: {e}")))?);
            }
            Tower::new(layers).map_err(|e| unusable(format!("{name} tower: {e}")))
        };
        let scalar = |name: &str| -> Result<f32, ModelError> {
            match read(name)?.1[..] {
                [value] => Ok(value),
                _ => Err(unusable(format!("{name} must hold exactly one number"))),
            }
        };
        let weights = TwoTowerWeights {
            user: tower("user")?,
            item: tower("item")?,
            head: RatingHead::new(scalar(HEAD_RAW_SLOPE)?, scalar(HEAD_BIAS)?)?,
            vocabulary,
        };
        if weights.user.output() != weights.item.output() {
            return Err(unusable(format!(
                "the user tower outputs {} numbers and the item tower {}",
                weights.user.output(),
                weights.item.output()
            )));
        }
        Ok(weights)
    }

    /// The item tower's output for an item: its content vector, then its attribute blocks when
    /// the model reads them. Training's export, evaluation and serving all go through here.
    pub fn item_vector(&self, content: &[f32], attributes: &Attributes) -> Result<Embedding, CoreError> {
        self.item.forward(&self.item_input(content, attributes))
    }

    /// What the item tower reads of an item: equal inputs make equal outputs, so a change the
    /// tower does not read (a new price within the same band, a new title) needs no new row.
    pub fn item_input<'a>(&self, content: &'a [f32], attributes: &Attributes) -> Cow<'a, [f32]> {
        match &self.vocabulary {
            Some(vocabulary) => Cow::Owned(vocabulary.item_input(content, attributes)),
            None => Cow::Borrowed(content),
        }
    }

    /// The item tower's input width for content vectors of dimension `content_dim`.
    pub fn item_input_width(&self, content_dim: usize) -> usize {
        content_dim + self.vocabulary.as_ref().map_or(0, FeatureVocabulary::width)
    }
}

#[cfg(test)]
mod tests {
    use tailor_core::Gender;

    use super::*;

    fn layer(output: usize, input: usize, seed: f32) -> Dense {
        let weights = (0..output * input).map(|i| ((i as f32 + seed) * 0.37).sin()).collect();
        Dense::new(weights, (0..output).map(|i| i as f32 * 0.01).collect(), input).unwrap()
    }

    #[test]
    fn saves_and_loads_bit_for_bit() {
        let catalogue = [Attributes { gender: Some(Gender::Men), ..Attributes::default() }];
        let vocabulary = FeatureVocabulary::from_catalogue(catalogue.iter(), 1);
        let weights = TwoTowerWeights {
            user: Tower::new(vec![layer(5, 4, 0.0), layer(3, 5, 1.0)]).unwrap(),
            item: Tower::new(vec![layer(5, 4 + vocabulary.width(), 2.0), layer(3, 5, 3.0)]).unwrap(),
            head: RatingHead::new(1.5, -0.25).unwrap(),
            vocabulary: Some(vocabulary),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("towers.safetensors");
        std::fs::write(&path, weights.to_bytes()).unwrap();
        assert_eq!(TwoTowerWeights::load(&path).unwrap(), weights);
    }

    #[test]
    fn truncated_weights_are_refused_with_the_path() {
        let weights = TwoTowerWeights {
            user: Tower::new(vec![layer(3, 2, 0.0)]).unwrap(),
            item: Tower::new(vec![layer(3, 2, 1.0)]).unwrap(),
            head: RatingHead::new(1.0, 0.0).unwrap(),
            vocabulary: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("towers.safetensors");
        let bytes = weights.to_bytes();
        std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
        let error = TwoTowerWeights::load(&path).unwrap_err().to_string();
        assert!(error.contains("towers.safetensors: not usable Two-Tower weights"), "{error}");
    }
}
