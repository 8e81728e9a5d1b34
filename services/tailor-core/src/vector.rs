//! Vector maths on `f32` slices. Loops run over fixed-width lanes with independent accumulators so
//! the compiler vectorises them; the results differ from a naive left-to-right sum only by
//! floating-point reassociation.

use serde::{Deserialize, Serialize};

use crate::CoreError;

const LANES: usize = 8;
/// How far from 1 the length of a stored unit vector may be after f32 rounding.
const UNIT_TOLERANCE: f32 = 1e-4;

/// Dot product. Panics if the lengths differ: callers hold dimension-checked data. On x86-64
/// CPUs with AVX2 and FMA (checked at run time; the binary still runs on any x86-64) it uses
/// them, which halves the time of a top-K scan.
#[allow(unsafe_code, reason = "calls the AVX2 kernel only on a CPU that has it")]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot product of vectors with different dimensions");
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features `dot_avx2_fma` is compiled for.
        return unsafe { dot_avx2_fma(a, b) };
    }
    dot_lanes(a, b)
}

#[inline(always)]
fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Two 8-wide fused multiply-add accumulators, then the lane loop for what is left.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code, reason = "AVX2 and FMA intrinsics on unaligned loads within the slices")]
unsafe fn dot_avx2_fma(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::{_mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setzero_ps, _mm256_storeu_ps};
    const STEP: usize = 16;
    let blocks = a.len() / STEP;
    let (mut first, mut second) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    for block in 0..blocks {
        let at = block * STEP;
        // SAFETY: `at + STEP <= a.len() == b.len()`, and unaligned loads accept any address.
        unsafe {
            first = _mm256_fmadd_ps(_mm256_loadu_ps(a.as_ptr().add(at)), _mm256_loadu_ps(b.as_ptr().add(at)), first);
            second = _mm256_fmadd_ps(
                _mm256_loadu_ps(a.as_ptr().add(at + 8)),
                _mm256_loadu_ps(b.as_ptr().add(at + 8)),
                second,
            );
        }
    }
    let mut sums = [0.0f32; 8];
    // SAFETY: `sums` holds the 8 floats the store writes.
    unsafe { _mm256_storeu_ps(sums.as_mut_ptr(), _mm256_add_ps(first, second)) };
    let done = blocks * STEP;
    sums.iter().sum::<f32>() + dot_lanes(&a[done..], &b[done..])
}

pub fn norm(v: &[f32]) -> f32 {
    dot(v, v).sqrt()
}

/// Checks that every component is finite, naming the first that is not.
pub fn check_finite(v: &[f32]) -> Result<(), CoreError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(CoreError::NonFiniteComponent { index, value: v[index] }),
        None => Ok(()),
    }
}

/// Scales `v` to unit length in place.
pub fn normalise(v: &mut [f32]) -> Result<(), CoreError> {
    check_finite(v)?;
    let length = norm(v);
    if length == 0.0 || !length.is_finite() {
        return Err(CoreError::ZeroVector);
    }
    v.iter_mut().for_each(|x| *x /= length);
    Ok(())
}

/// `acc += weight * v`: the O(d) step of incremental aggregates.
pub fn add_scaled(acc: &mut [f32], weight: f32, v: &[f32]) {
    assert_eq!(acc.len(), v.len(), "add_scaled of vectors with different dimensions");
    acc.iter_mut().zip(v).for_each(|(a, x)| *a += weight * x);
}

/// `sum_i weights[i] * vectors[i]`, all vectors of dimension `dim`.
pub fn weighted_sum<'a>(
    dim: usize,
    vectors: impl ExactSizeIterator<Item = &'a [f32]>,
    weights: &[f32],
) -> Result<Vec<f32>, CoreError> {
    if vectors.len() != weights.len() {
        return Err(CoreError::WeightCountMismatch { weights: weights.len(), vectors: vectors.len() });
    }
    check_finite(weights)?;
    let mut sum = vec![0.0; dim];
    for (v, &w) in vectors.zip(weights) {
        if v.len() != dim {
            return Err(CoreError::DimensionMismatch { expected: dim, found: v.len() });
        }
        add_scaled(&mut sum, w, v);
    }
    Ok(sum)
}

/// A finite, L2-normalised vector of a known dimension, so cosine similarity is a dot product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Embedding(Box<[f32]>);

impl Embedding {
    /// Normalises `values` after checking their dimension; NaN, infinities and the zero vector are
    /// refused.
    pub fn new(mut values: Vec<f32>, expected_dim: usize) -> Result<Embedding, CoreError> {
        if expected_dim == 0 {
            return Err(CoreError::ZeroDimension);
        }
        if values.len() != expected_dim {
            return Err(CoreError::DimensionMismatch { expected: expected_dim, found: values.len() });
        }
        normalise(&mut values)?;
        Ok(Embedding(values.into_boxed_slice()))
    }

    /// Takes values that are already L2-normalised (as stored embeddings are) without
    /// normalising again, which would change their last bits and break exact round trips.
    pub fn from_unit(values: Vec<f32>, expected_dim: usize) -> Result<Embedding, CoreError> {
        if values.len() != expected_dim {
            return Err(CoreError::DimensionMismatch { expected: expected_dim, found: values.len() });
        }
        check_finite(&values)?;
        let length = norm(&values);
        if (length - 1.0).abs() > UNIT_TOLERANCE {
            return Err(CoreError::NotUnitLength(length));
        }
        Ok(Embedding(values.into_boxed_slice()))
    }

    pub fn dim(&self) -> usize {
        self.0.len()
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    pub fn cosine(&self, other: &Embedding) -> Result<f32, CoreError> {
        if self.dim() != other.dim() {
            return Err(CoreError::DimensionMismatch { expected: self.dim(), found: other.dim() });
        }
        Ok(dot(&self.0, &other.0))
    }
}

/// Serialised embeddings are unit vectors; they are read back bit for bit.
impl TryFrom<Vec<f32>> for Embedding {
    type Error = CoreError;
    fn try_from(values: Vec<f32>) -> Result<Embedding, CoreError> {
        let dim = values.len();
        Embedding::from_unit(values, dim)
    }
}

impl From<Embedding> for Vec<f32> {
    fn from(e: Embedding) -> Vec<f32> {
        e.0.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn naive_dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum()
    }

    fn vectors(max_dim: usize) -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
        (1..max_dim)
            .prop_flat_map(|d| (prop::collection::vec(-10.0f32..10.0, d), prop::collection::vec(-10.0f32..10.0, d)))
    }

    #[test]
    fn unit_vectors_are_taken_as_they_are() {
        let e = Embedding::new(vec![3.0, 4.0], 2).unwrap();
        let again = Embedding::from_unit(e.as_slice().to_vec(), 2).unwrap();
        assert_eq!(
            again.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            e.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(Embedding::from_unit(vec![3.0, 4.0], 2), Err(CoreError::NotUnitLength(5.0)));
        assert!(matches!(Embedding::from_unit(vec![f32::NAN, 1.0], 2), Err(CoreError::NonFiniteComponent { .. })));
    }

    proptest! {
        #[test]
        fn dot_matches_naive_reference((a, b) in vectors(300)) {
            let tolerance = 1e-4 * (1.0 + naive_dot(&a, &a).sqrt() * naive_dot(&b, &b).sqrt());
            prop_assert!((f64::from(dot(&a, &b)) - naive_dot(&a, &b)).abs() <= tolerance);
            prop_assert_eq!(dot(&a, &b), dot(&b, &a));
        }

        #[test]
        fn embeddings_have_unit_length(v in prop::collection::vec(-100.0f32..100.0, 1..300)) {
            prop_assume!(v.iter().any(|x| x.abs() > 1e-3));
            let dim = v.len();
            let e = Embedding::new(v, dim).unwrap();
            prop_assert!((norm(e.as_slice()) - 1.0).abs() < 1e-5);
            prop_assert!((e.cosine(&e).unwrap() - 1.0).abs() < 1e-5);
        }

        #[test]
        fn cosine_is_bounded((a, b) in vectors(200)) {
            prop_assume!(norm(&a) > 1e-3 && norm(&b) > 1e-3);
            let (ea, eb) = (Embedding::new(a.clone(), a.len()).unwrap(), Embedding::new(b.clone(), b.len()).unwrap());
            prop_assert!(ea.cosine(&eb).unwrap().abs() <= 1.0 + 1e-5);
        }

        #[test]
        fn weighted_sum_matches_naive_reference(
            (a, b) in vectors(64), wa in -5.0f32..5.0, wb in -5.0f32..5.0
        ) {
            let sum = weighted_sum(a.len(), [a.as_slice(), b.as_slice()].into_iter(), &[wa, wb]).unwrap();
            for i in 0..a.len() {
                let expected = f64::from(wa) * f64::from(a[i]) + f64::from(wb) * f64::from(b[i]);
                prop_assert!((f64::from(sum[i]) - expected).abs() < 1e-4 * (1.0 + expected.abs()));
            }
        }
    }

    #[test]
    fn embedding_refuses_bad_vectors() {
        assert_eq!(Embedding::new(vec![1.0; 3], 4), Err(CoreError::DimensionMismatch { expected: 4, found: 3 }));
        assert_eq!(Embedding::new(vec![], 0), Err(CoreError::ZeroDimension));
        assert!(matches!(Embedding::new(vec![1.0, f32::NAN], 2), Err(CoreError::NonFiniteComponent { index: 1, .. })));
        assert!(matches!(
            Embedding::new(vec![f32::INFINITY, 0.0], 2),
            Err(CoreError::NonFiniteComponent { index: 0, .. })
        ));
        assert_eq!(Embedding::new(vec![0.0; 4], 4), Err(CoreError::ZeroVector));
        assert!(serde_json::from_str::<Embedding>("[0.0, 0.0]").is_err());
    }

    #[test]
    fn weighted_sum_checks_counts_and_dimensions() {
        let a = [1.0f32, 2.0];
        assert_eq!(
            weighted_sum(2, [a.as_slice()].into_iter(), &[1.0, 2.0]),
            Err(CoreError::WeightCountMismatch { weights: 2, vectors: 1 })
        );
        assert_eq!(
            weighted_sum(3, [a.as_slice()].into_iter(), &[1.0]),
            Err(CoreError::DimensionMismatch { expected: 3, found: 2 })
        );
    }
}
