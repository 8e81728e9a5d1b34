//! Two-Tower inference in plain Rust: a tower is a small MLP (ReLU between layers) whose output is
//! L2-normalised, so user and item outputs compare by dot product; the rating head maps their
//! cosine to a 1-10 rating and is monotone in it, so the nearest items are the best rated. The
//! trainer learns these weights on libtorch and exports them; serving runs them here.

use crate::vector::dot;
use crate::{CoreError, Embedding, RATING_MAX, RATING_MIN};

/// One fully connected layer, weights row-major [output][input] as PyTorch stores them.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    weights: Vec<f32>,
    bias: Vec<f32>,
    input: usize,
}

impl Dense {
    pub fn new(weights: Vec<f32>, bias: Vec<f32>, input: usize) -> Result<Dense, CoreError> {
        if input == 0 || weights.len() != bias.len() * input {
            return Err(CoreError::DimensionMismatch { expected: bias.len() * input, found: weights.len() });
        }
        crate::vector::check_finite(&weights)?;
        crate::vector::check_finite(&bias)?;
        Ok(Dense { weights, bias, input })
    }

    pub fn input(&self) -> usize {
        self.input
    }

    pub fn output(&self) -> usize {
        self.bias.len()
    }

    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    fn forward(&self, x: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.extend(self.weights.chunks_exact(self.input).zip(&self.bias).map(|(row, b)| dot(row, x) + b));
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tower {
    layers: Vec<Dense>,
}

impl Tower {
    /// Layers in order; each one's input must be the previous one's output.
    pub fn new(layers: Vec<Dense>) -> Result<Tower, CoreError> {
        if layers.is_empty() {
            return Err(CoreError::ZeroDimension);
        }
        for pair in layers.windows(2) {
            if pair[1].input() != pair[0].output() {
                return Err(CoreError::DimensionMismatch { expected: pair[0].output(), found: pair[1].input() });
            }
        }
        Ok(Tower { layers })
    }

    pub fn input(&self) -> usize {
        self.layers[0].input()
    }

    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    pub fn output(&self) -> usize {
        self.layers.last().expect("at least one layer").output()
    }

    /// The unit output vector for one input.
    pub fn forward(&self, input: &[f32]) -> Result<Embedding, CoreError> {
        if input.len() != self.input() {
            return Err(CoreError::DimensionMismatch { expected: self.input(), found: input.len() });
        }
        let (mut x, mut next) = (input.to_vec(), Vec::new());
        for (i, layer) in self.layers.iter().enumerate() {
            layer.forward(&x, &mut next);
            if i + 1 < self.layers.len() {
                next.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            std::mem::swap(&mut x, &mut next);
        }
        let dim = x.len();
        Embedding::new(x, dim)
    }
}

/// `rating = 1 + 9 * sigmoid(slope * cosine + bias)` with `slope > 0`: higher cosine, higher
/// rating, always.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RatingHead {
    raw_slope: f32,
    slope: f32,
    bias: f32,
}

impl RatingHead {
    /// `raw_slope` is the trained parameter; the slope is its softplus, so it is positive
    /// whatever training did.
    pub fn new(raw_slope: f32, bias: f32) -> Result<RatingHead, CoreError> {
        crate::vector::check_finite(&[raw_slope, bias])?;
        let slope = if raw_slope > 20.0 { raw_slope } else { raw_slope.exp().ln_1p() };
        Ok(RatingHead { raw_slope, slope, bias })
    }

    /// The parameters as [`RatingHead::new`] takes them.
    pub fn parameters(&self) -> (f32, f32) {
        (self.raw_slope, self.bias)
    }

    pub fn rating(&self, cosine: f32) -> f32 {
        let unit = 1.0 / (1.0 + (-(self.slope * cosine + self.bias)).exp());
        RATING_MIN + (RATING_MAX - RATING_MIN) * unit
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn layers_must_chain() {
        let a = Dense::new(vec![1.0; 6], vec![0.0; 2], 3).unwrap();
        let b = Dense::new(vec![1.0; 4], vec![0.0; 4], 1).unwrap();
        assert!(matches!(Tower::new(vec![a.clone(), b]), Err(CoreError::DimensionMismatch { expected: 2, found: 1 })));
        assert!(Dense::new(vec![1.0; 5], vec![0.0; 2], 3).is_err());
        let tower = Tower::new(vec![a]).unwrap();
        assert!(tower.forward(&[1.0, 2.0]).is_err());
    }

    #[test]
    fn relu_between_layers_and_unit_output() {
        // Layer 1: [x0 - x1, x1 - x0]; ReLU; layer 2: identity with bias.
        let first = Dense::new(vec![1.0, -1.0, -1.0, 1.0], vec![0.0, 0.0], 2).unwrap();
        let second = Dense::new(vec![1.0, 0.0, 0.0, 1.0], vec![0.0, 0.5], 2).unwrap();
        let tower = Tower::new(vec![first, second]).unwrap();
        let out = tower.forward(&[3.0, 1.0]).unwrap();
        // Hidden [2, -2] -> ReLU [2, 0] -> [2, 0.5], normalised.
        let norm = (4.0f32 + 0.25).sqrt();
        assert!((out.as_slice()[0] - 2.0 / norm).abs() < 1e-6 && (out.as_slice()[1] - 0.5 / norm).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn the_rating_head_is_monotone_and_in_range(raw in -5.0f32..5.0, bias in -5.0f32..5.0, a in -1.0f32..1.0, b in -1.0f32..1.0) {
            let head = RatingHead::new(raw, bias).unwrap();
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(head.rating(low) <= head.rating(high));
            for c in [low, high] {
                prop_assert!((RATING_MIN..=RATING_MAX).contains(&head.rating(c)));
            }
        }
    }
}
