//! The training loop: MSE on 1-10 ratings plus a retrieval loss, Adam, early stopping on held-out
//! users' losses, and the best epoch's weights kept. Every epoch each training user reveals a
//! random few of their events (0 to `context_max`) as the user-tower input and is trained on the
//! rest, which is what serving sees: visitors with a handful of interactions. The retrieval loss
//! makes the user tower find the user's other positive items among the batch's and sampled items
//! (a softmax over them), each logit corrected by the log of how likely that item was to be
//! sampled, so popular items are not learned as "what everyone wants" (Yi et al., "Sampling-bias-
//! corrected neural modeling for large corpus item recommendations", RecSys 2019).

use std::collections::HashSet;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tailor_core::{AggregateWeights, Attributes, FeatureVocabulary, RATING_MIN};
use tailor_models::{TrainConfig, TwoTowerWeights};
use tch::nn::OptimizerConfig;
use tch::{Device, Tensor, nn};

use crate::dataset::{Dataset, Role, Split, UserEvent};
use crate::{TrainerError, TwoTower, TwoTowerConfig};

#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: u32,
    pub train_mse: f64,
    pub validation_mse: f64,
    /// The retrieval loss (softmax cross-entropy), on training and held-out users.
    pub train_retrieval: f64,
    pub validation_retrieval: f64,
    pub millis: f64,
}

pub struct Trained {
    pub weights: TwoTowerWeights,
    pub epochs: Vec<EpochReport>,
    pub best_epoch: u32,
    pub training_examples: u64,
}

/// Training examples for one pass: one user-input row per user, (user row, item, rating) for the
/// ratings not revealed, and (user row, item) for the positive items not revealed.
struct Examples {
    user_inputs: Vec<f32>,
    users: Vec<i64>,
    items: Vec<i64>,
    ratings: Vec<f32>,
    positives: Vec<(i64, i64)>,
}

fn examples(
    dataset: &Dataset,
    histories: &[usize],
    is_new_item: &[bool],
    config: &TrainConfig,
    rng: &mut StdRng,
) -> Result<Examples, TrainerError> {
    let weights = AggregateWeights::default();
    let mut out = Examples {
        user_inputs: Vec::new(),
        users: Vec::new(),
        items: Vec::new(),
        ratings: Vec::new(),
        positives: Vec::new(),
    };
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
        let revealed_items: HashSet<u32> = events[..revealed].iter().map(|e| e.item).collect();
        let mut wanted: Vec<u32> = events[revealed..]
            .iter()
            .filter(|e| e.kind.is_positive(e.value) && !revealed_items.contains(&e.item))
            .map(|e| e.item)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        out.positives.extend(wanted.into_iter().map(|item| (row as i64, i64::from(item))));
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
    // Negatives are drawn from the items training may see.
    let trainable: Vec<i64> = (0..dataset.items.len() as i64).filter(|&i| !is_new_item[i as usize]).collect();
    let validation_negatives =
        sample(&trainable, config.sampled_negatives, &mut StdRng::seed_from_u64(config.seed ^ 2));
    let validation_pairs = &validation_examples.positives[..validation_examples.positives.len().min(VALIDATION_PAIRS)];
    let validation_inputs = tensor(&validation_examples.user_inputs, validation.len(), device);
    for epoch in 1..=config.max_epochs {
        let started = Instant::now();
        let pass = examples(dataset, &training, &is_new_item, config, &mut rng)?;
        training_examples = pass.ratings.len() as u64;
        let users = tensor(&pass.user_inputs, training.len(), device);
        let mut order: Vec<usize> = (0..pass.ratings.len()).collect();
        order.shuffle(&mut rng);
        let mut pairs = pass.positives.clone();
        pairs.shuffle(&mut rng);
        let chances = Chances::new(&pass.positives, dataset.items.len(), trainable.len(), config);
        let rating_batches: Vec<&[usize]> = order.chunks(config.batch_size).collect();
        let retrieval_batches: Vec<&[(i64, i64)]> =
            if config.retrieval_weight > 0.0 { pairs.chunks(config.retrieval_batch).collect() } else { Vec::new() };
        let (mut loss_sum, mut count, mut retrieval_sum, mut retrieval_count) = (0.0, 0usize, 0.0, 0usize);
        for step in 0..rating_batches.len().max(retrieval_batches.len()) {
            let mut loss = Tensor::zeros([], (tch::Kind::Float, device));
            if let Some(batch) = rating_batches.get(step) {
                let pick = |values: &[i64]| {
                    Tensor::from_slice(&batch.iter().map(|&i| values[i]).collect::<Vec<_>>()).to_device(device)
                };
                let targets =
                    Tensor::from_slice(&batch.iter().map(|&i| pass.ratings[i]).collect::<Vec<_>>()).to_device(device);
                let predicted = model
                    .ratings(&users.index_select(0, &pick(&pass.users)), &items.index_select(0, &pick(&pass.items)));
                let mse = predicted.mse_loss(&targets, tch::Reduction::Mean);
                loss_sum += mse.double_value(&[]) * batch.len() as f64;
                count += batch.len();
                loss += mse;
            }
            if let Some(batch) = retrieval_batches.get(step) {
                let negatives = sample(&trainable, config.sampled_negatives, &mut rng);
                let retrieval = retrieval_loss(&model, &users, &items, batch, &negatives, &chances, config, device);
                retrieval_sum += retrieval.double_value(&[]) * batch.len() as f64;
                retrieval_count += batch.len();
                loss += retrieval * config.retrieval_weight;
            }
            optimiser.backward_step(&loss);
        }
        let validation_mse = mse(&model, &validation_examples, validation.len(), &items, device);
        let validation_retrieval = if config.retrieval_weight > 0.0 && !validation_pairs.is_empty() {
            let chances = Chances::new(validation_pairs, dataset.items.len(), trainable.len(), config);
            tch::no_grad(|| {
                retrieval_loss(
                    &model,
                    &validation_inputs,
                    &items,
                    validation_pairs,
                    &validation_negatives,
                    &chances,
                    config,
                    device,
                )
                .double_value(&[])
            })
        } else {
            0.0
        };
        let report = EpochReport {
            epoch,
            train_mse: loss_sum / count.max(1) as f64,
            validation_mse,
            train_retrieval: retrieval_sum / retrieval_count.max(1) as f64,
            validation_retrieval,
            millis: started.elapsed().as_secs_f64() * 1000.0,
        };
        on_epoch(&report);
        reports.push(report);
        let validation_loss = validation_mse + config.retrieval_weight * validation_retrieval;
        if best.as_ref().is_none_or(|best| validation_loss < best.validation_loss - 1e-4) {
            best = Some(Best { validation_loss, epoch, weights: snapshot(&model) });
        } else if epoch - best.as_ref().map_or(0, |b| b.epoch) >= config.patience {
            break;
        }
    }
    let Best { epoch: best_epoch, weights, .. } = best.expect("at least one epoch ran");
    restore(&model, &weights);
    Ok(Trained { weights: model.export(vocabulary)?, epochs: reports, best_epoch, training_examples })
}

/// Held-out (user, item) pairs the validation retrieval loss is computed over, in one batch.
const VALIDATION_PAIRS: usize = 2048;

fn sample(items: &[i64], count: usize, rng: &mut StdRng) -> Vec<i64> {
    (0..count).map(|_| items[rng.random_range(0..items.len())]).collect()
}

/// The log of each item's chance to be a candidate in a retrieval batch: in the batch, as the
/// positive of one of its pairs (proportional to how often it is a positive), or among the
/// uniformly sampled negatives.
struct Chances {
    in_batch: Vec<f32>,
    sampled: f32,
}

impl Chances {
    fn new(pairs: &[(i64, i64)], items: usize, trainable: usize, config: &TrainConfig) -> Chances {
        let mut counts = vec![0f32; items];
        pairs.iter().for_each(|&(_, item)| counts[item as usize] += 1.0);
        let batch = config.retrieval_batch.min(pairs.len()) as f32;
        let total = pairs.len().max(1) as f32;
        let in_batch = counts.iter().map(|&c| (batch * c.max(1.0) / total).min(1.0).ln()).collect();
        let sampled = (config.sampled_negatives as f32 / trainable.max(1) as f32).min(1.0).ln();
        Chances { in_batch, sampled }
    }
}

/// Softmax cross-entropy of each pair's item among the batch's items and the sampled negatives,
/// over cosine / temperature less the log of each candidate's chance to be there. A candidate
/// that is the pair's own item elsewhere in the batch is masked (an accidental hit).
#[allow(clippy::too_many_arguments)]
fn retrieval_loss(
    model: &TwoTower,
    users: &Tensor,
    items: &Tensor,
    pairs: &[(i64, i64)],
    negatives: &[i64],
    chances: &Chances,
    config: &TrainConfig,
    device: Device,
) -> Tensor {
    let candidates: Vec<i64> = pairs.iter().map(|&(_, item)| item).chain(negatives.iter().copied()).collect();
    let user_rows: Vec<i64> = pairs.iter().map(|&(user, _)| user).collect();
    let user_vectors = model.users(&users.index_select(0, &Tensor::from_slice(&user_rows).to_device(device)));
    let item_vectors = model.items(&items.index_select(0, &Tensor::from_slice(&candidates).to_device(device)));
    let (rows, width) = (pairs.len(), candidates.len());
    let mut offsets = vec![0f32; rows * width];
    for (i, &(_, own)) in pairs.iter().enumerate() {
        for (j, &item) in candidates.iter().enumerate() {
            offsets[i * width + j] = if j != i && item == own {
                -1e4
            } else if j < rows {
                -chances.in_batch[item as usize]
            } else {
                -chances.sampled
            };
        }
    }
    let offsets = Tensor::from_slice(&offsets).view([rows as i64, width as i64]).to_device(device);
    let logits = user_vectors.matmul(&item_vectors.tr()) / config.temperature + offsets;
    logits.cross_entropy_for_logits(&Tensor::arange(rows as i64, (tch::Kind::Int64, device)))
}

/// The epoch with the lowest validation loss so far, and a copy of its weights.
struct Best {
    /// MSE plus the weighted retrieval loss.
    validation_loss: f64,
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
