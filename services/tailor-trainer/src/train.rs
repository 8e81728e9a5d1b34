//! The training loop: MSE on 1-10 ratings, Adam, early stopping on held-out users' ratings, and
//! the best epoch's weights kept. Every epoch each training user reveals a random few of their
//! events (0 to `context_max`) as the user-tower input and is trained on the ratings of the rest,
//! which is what serving sees: visitors with a handful of interactions.

use std::collections::HashSet;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tailor_core::{AggregateWeights, Attributes, FeatureVocabulary, RATING_MIN};
use tailor_models::TwoTowerWeights;
use tch::nn::OptimizerConfig;
use tch::{Device, Tensor, nn};

use crate::dataset::{Dataset, Role, Split, UserEvent};
use crate::{TrainerError, TwoTower, TwoTowerConfig};

/// The training run's settings; `[train.model]` in the configuration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub seed: u64,
    pub max_epochs: u32,
    /// Stop after this many epochs without a better validation loss.
    pub patience: u32,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Adam's L2 penalty on the weights.
    pub weight_decay: f64,
    /// The most events a user reveals as tower input in one epoch.
    pub context_max: usize,
    /// Whether the item tower reads catalogue attributes besides the content vector.
    pub item_attributes: bool,
    /// Items a user never touched, sampled this many per rating and trained as rated 1. A model
    /// fitted to observed ratings alone knows how an item would be rated, not whether the user
    /// would look at it, and ranks the whole catalogue poorly; these teach it the second.
    pub unrated_per_rating: f64,
    pub hidden: i64,
    pub output: i64,
    /// Attribute values on fewer items than this share the "rare" slot.
    pub min_attribute_count: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 42,
            max_epochs: 40,
            patience: 3,
            batch_size: 1024,
            learning_rate: 2e-3,
            weight_decay: 0.0,
            context_max: 8,
            item_attributes: true,
            unrated_per_rating: 2.0,
            hidden: 256,
            output: 128,
            min_attribute_count: 5,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: u32,
    pub train_mse: f64,
    pub validation_mse: f64,
    pub millis: f64,
}

pub struct Trained {
    pub weights: TwoTowerWeights,
    pub epochs: Vec<EpochReport>,
    pub best_epoch: u32,
    pub training_examples: u64,
}

/// Training examples for one pass: one user-input row per user, and (user row, item, rating)
/// for the ratings not revealed.
struct Examples {
    user_inputs: Vec<f32>,
    users: Vec<i64>,
    items: Vec<i64>,
    ratings: Vec<f32>,
}

fn examples(
    dataset: &Dataset,
    histories: &[usize],
    is_new_item: &[bool],
    config: &TrainConfig,
    rng: &mut StdRng,
) -> Result<Examples, TrainerError> {
    let weights = AggregateWeights::default();
    let mut out = Examples { user_inputs: Vec::new(), users: Vec::new(), items: Vec::new(), ratings: Vec::new() };
    for (row, &user) in histories.iter().enumerate() {
        let mut events: Vec<UserEvent> =
            dataset.users[user].events.iter().filter(|e| !is_new_item[e.item as usize]).copied().collect();
        events.shuffle(rng);
        let revealed = rng.random_range(0..=config.context_max.min(events.len().saturating_sub(1)));
        dataset.user_input(&weights, &events[..revealed], &mut out.user_inputs)?;
        let mut targets = 0;
        for event in &events[revealed..] {
            if let (tailor_core::InteractionKind::Rating, Some(value)) = (event.kind, event.value) {
                out.users.push(row as i64);
                out.items.push(i64::from(event.item));
                out.ratings.push(value);
                targets += 1;
            }
        }
        let touched: HashSet<u32> = events.iter().map(|e| e.item).collect();
        let unrated = (targets as f64 * config.unrated_per_rating).round() as usize;
        let mut added = 0;
        while added < unrated {
            let item = rng.random_range(0..dataset.items.len() as u32);
            if !touched.contains(&item) && !is_new_item[item as usize] {
                out.users.push(row as i64);
                out.items.push(i64::from(item));
                out.ratings.push(RATING_MIN);
                added += 1;
            }
        }
    }
    Ok(out)
}

/// The item tower's input rows: content vectors, then attribute blocks when used.
pub fn item_inputs(dataset: &Dataset, attributes: &[&Attributes], vocabulary: Option<&FeatureVocabulary>) -> Vec<f32> {
    let mut inputs = Vec::new();
    for (row, attributes) in attributes.iter().enumerate() {
        inputs.extend_from_slice(dataset.content(row as u32));
        if let Some(vocabulary) = vocabulary {
            vocabulary.encode(attributes, &mut inputs);
        }
    }
    inputs
}

fn tensor(values: &[f32], rows: usize, device: Device) -> Tensor {
    Tensor::from_slice(values).view([rows as i64, (values.len() / rows.max(1)) as i64]).to_device(device)
}

/// Trains on `dataset` under `split`. `attributes[row]` are item `row`'s catalogue attributes.
pub fn train(
    dataset: &Dataset,
    attributes: &[&Attributes],
    split: &Split,
    config: &TrainConfig,
    device: Device,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<Trained, TrainerError> {
    tch::manual_seed(config.seed as i64);
    let mut rng = StdRng::seed_from_u64(config.seed);
    let vocabulary = config
        .item_attributes
        .then(|| FeatureVocabulary::from_catalogue(attributes.iter().copied(), config.min_attribute_count));
    let item_width = dataset.dim + vocabulary.as_ref().map_or(0, FeatureVocabulary::width);
    let items = tensor(&item_inputs(dataset, attributes, vocabulary.as_ref()), dataset.items.len(), device);
    let is_new_item: Vec<bool> = dataset.items.iter().map(|id| split.is_new_item(id)).collect();
    let role_users = |role: Role| -> Vec<usize> {
        (0..dataset.users.len()).filter(|&u| split.role(&dataset.users[u].subject) == role).collect()
    };
    let (training, validation) = (role_users(Role::Train), role_users(Role::Validation));
    if training.is_empty() || validation.is_empty() {
        return Err(TrainerError::Data(format!(
            "{} users: too few to hold some out for validation and still train",
            dataset.users.len()
        )));
    }
    // The validation users reveal the same events every epoch, so their loss is comparable.
    let validation_examples =
        examples(dataset, &validation, &is_new_item, config, &mut StdRng::seed_from_u64(config.seed ^ 1))?;

    let model_config = TwoTowerConfig {
        user_input: dataset.dim as i64,
        item_input: item_width as i64,
        hidden: config.hidden,
        output: config.output,
    };
    let model = TwoTower::new(&model_config, device);
    let mut optimiser =
        nn::Adam { wd: config.weight_decay, ..nn::Adam::default() }.build(model.var_store(), config.learning_rate)?;
    let mut best: Option<Best> = None;
    let mut reports = Vec::new();
    let mut training_examples = 0;
    for epoch in 1..=config.max_epochs {
        let started = Instant::now();
        let pass = examples(dataset, &training, &is_new_item, config, &mut rng)?;
        training_examples = pass.ratings.len() as u64;
        let users = tensor(&pass.user_inputs, training.len(), device);
        let mut order: Vec<usize> = (0..pass.ratings.len()).collect();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut count) = (0.0, 0usize);
        for batch in order.chunks(config.batch_size) {
            let pick = |values: &[i64]| {
                Tensor::from_slice(&batch.iter().map(|&i| values[i]).collect::<Vec<_>>()).to_device(device)
            };
            let targets =
                Tensor::from_slice(&batch.iter().map(|&i| pass.ratings[i]).collect::<Vec<_>>()).to_device(device);
            let predicted =
                model.ratings(&users.index_select(0, &pick(&pass.users)), &items.index_select(0, &pick(&pass.items)));
            let loss = predicted.mse_loss(&targets, tch::Reduction::Mean);
            optimiser.backward_step(&loss);
            loss_sum += loss.double_value(&[]) * batch.len() as f64;
            count += batch.len();
        }
        let validation_mse = mse(&model, &validation_examples, validation.len(), &items, device);
        let report = EpochReport {
            epoch,
            train_mse: loss_sum / count.max(1) as f64,
            validation_mse,
            millis: started.elapsed().as_secs_f64() * 1000.0,
        };
        on_epoch(&report);
        reports.push(report);
        if best.as_ref().is_none_or(|best| validation_mse < best.validation_mse - 1e-4) {
            best = Some(Best { validation_mse, epoch, weights: snapshot(&model) });
        } else if epoch - best.as_ref().map_or(0, |b| b.epoch) >= config.patience {
            break;
        }
    }
    let Best { epoch: best_epoch, weights, .. } = best.expect("at least one epoch ran");
    restore(&model, &weights);
    Ok(Trained { weights: model.export(vocabulary)?, epochs: reports, best_epoch, training_examples })
}

/// The epoch with the lowest validation loss so far, and a copy of its weights.
struct Best {
    validation_mse: f64,
    epoch: u32,
    weights: Vec<(String, Tensor)>,
}

fn mse(model: &TwoTower, examples: &Examples, users: usize, items: &Tensor, device: Device) -> f64 {
    tch::no_grad(|| {
        let user_inputs = tensor(&examples.user_inputs, users, device);
        let index = |values: &[i64]| Tensor::from_slice(values).to_device(device);
        let predicted = model.ratings(
            &user_inputs.index_select(0, &index(&examples.users)),
            &items.index_select(0, &index(&examples.items)),
        );
        let targets = Tensor::from_slice(&examples.ratings).to_device(device);
        predicted.mse_loss(&targets, tch::Reduction::Mean).double_value(&[])
    })
}

fn snapshot(model: &TwoTower) -> Vec<(String, Tensor)> {
    model.var_store().variables().into_iter().map(|(name, t)| (name, t.detach().copy())).collect()
}

fn restore(model: &TwoTower, state: &[(String, Tensor)]) {
    let variables = model.var_store().variables();
    tch::no_grad(|| {
        for (name, saved) in state {
            variables[name].shallow_clone().copy_(saved);
        }
    });
}

/// The item tower's output for every item row, computed in chunks.
pub fn item_outputs(
    weights: &TwoTowerWeights,
    dataset: &Dataset,
    attributes: &[&Attributes],
) -> Result<Vec<f32>, TrainerError> {
    let mut outputs = Vec::with_capacity(dataset.items.len() * weights.item.output());
    for (row, attributes) in attributes.iter().enumerate() {
        outputs.extend_from_slice(weights.item_vector(dataset.content(row as u32), attributes)?.as_slice());
    }
    Ok(outputs)
}
