//! The Two-Tower model: each tower is an MLP with ReLU between layers and an L2-normalised output;
//! their cosine goes through a rating head `1 + 9 * sigmoid(softplus(a) * cos + b)`, monotone in
//! the cosine by construction (TORCH.md records what a free-form head learned instead).

use tailor_core::{Dense, FeatureVocabulary, RATING_MAX, RATING_MIN, RatingHead, Tower};
use tailor_models::TwoTowerWeights;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use crate::TrainerError;

#[derive(Clone, Debug, PartialEq)]
pub struct TwoTowerConfig {
    pub user_input: i64,
    pub item_input: i64,
    pub hidden: i64,
    pub output: i64,
}

impl TwoTowerConfig {
    /// Both towers take the joint-space vectors `tailor embed` writes: the user tower their
    /// aggregate, the item tower the item's own.
    pub fn new(input: i64) -> TwoTowerConfig {
        TwoTowerConfig { user_input: input, item_input: input, hidden: 256, output: 128 }
    }
}

pub struct TwoTower {
    vs: nn::VarStore,
    user: Vec<nn::Linear>,
    item: Vec<nn::Linear>,
    raw_slope: Tensor,
    bias: Tensor,
}

fn tower(path: nn::Path, input: i64, config: &TwoTowerConfig) -> Vec<nn::Linear> {
    vec![
        nn::linear(&path / 0, input, config.hidden, Default::default()),
        nn::linear(&path / 1, config.hidden, config.output, Default::default()),
    ]
}

fn run(layers: &[nn::Linear], x: &Tensor) -> Tensor {
    let mut h = x.shallow_clone();
    for (i, layer) in layers.iter().enumerate() {
        h = layer.forward(&h);
        if i + 1 < layers.len() {
            h = h.relu();
        }
    }
    &h / h.norm_scalaropt_dim(2, [1i64].as_slice(), true).clamp_min(1e-12)
}

impl TwoTower {
    pub fn new(config: &TwoTowerConfig, device: Device) -> TwoTower {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let user = tower(&root / "user", config.user_input, config);
        let item = tower(&root / "item", config.item_input, config);
        // Starts with a clear preference for closer items: slope softplus(2) = 2.1.
        let raw_slope = root.var("head_raw_slope", &[1], nn::Init::Const(2.0));
        let bias = root.var("head_bias", &[1], nn::Init::Const(0.0));
        TwoTower { vs, user, item, raw_slope, bias }
    }

    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Unit user vectors [batch, output] from user inputs [batch, user_input].
    pub fn users(&self, x: &Tensor) -> Tensor {
        run(&self.user, x)
    }

    /// Unit item vectors [batch, output] from item inputs [batch, item_input].
    pub fn items(&self, x: &Tensor) -> Tensor {
        run(&self.item, x)
    }

    /// Predicted ratings [batch] for paired rows of user and item inputs.
    pub fn ratings(&self, users: &Tensor, items: &Tensor) -> Tensor {
        let cosine = (self.users(users) * self.items(items)).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        let unit = (self.raw_slope.softplus() * cosine + &self.bias).sigmoid();
        unit * f64::from(RATING_MAX - RATING_MIN) + f64::from(RATING_MIN)
    }

    /// The towers and head as plain-Rust values for serving, with the vocabulary the item
    /// tower's attribute blocks were encoded with.
    pub fn export(&self, vocabulary: Option<FeatureVocabulary>) -> Result<TwoTowerWeights, TrainerError> {
        Ok(TwoTowerWeights {
            user: export_tower(&self.user)?,
            item: export_tower(&self.item)?,
            head: RatingHead::new(scalar(&self.raw_slope), scalar(&self.bias))?,
            vocabulary,
        })
    }
}

fn scalar(t: &Tensor) -> f32 {
    t.double_value(&[0]) as f32
}

fn values(t: &Tensor) -> Vec<f32> {
    let t = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
    let count = t.numel();
    let mut out = vec![0f32; count];
    t.copy_data(&mut out, count);
    out
}

fn export_tower(layers: &[nn::Linear]) -> Result<Tower, TrainerError> {
    let dense = layers
        .iter()
        .map(|layer| {
            let bias = layer.bs.as_ref().map(values).unwrap_or_else(|| vec![0.0; layer.ws.size()[0] as usize]);
            Dense::new(values(&layer.ws), bias, layer.ws.size()[1] as usize)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tower::new(dense)?)
}
