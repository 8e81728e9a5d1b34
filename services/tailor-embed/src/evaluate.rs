//! Quality measures for the item vectors: text-to-image retrieval on held-out pairs and
//! nearest-neighbour article-type agreement.

use tch::{Kind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Retrieval {
    pub recall_at_1: f64,
    pub recall_at_10: f64,
    pub mean_reciprocal_rank: f64,
    pub queries: usize,
}

/// Row `i` of `texts` is the query whose answer is row `i` of `images`; both unit vectors.
pub fn text_to_image(texts: &Tensor, images: &Tensor) -> Retrieval {
    tch::no_grad(|| {
        let similarity = texts.matmul(&images.transpose(0, 1));
        let own = similarity.diagonal(0, 0, 1).unsqueeze(1);
        // Rank 1 plus the number of photos scoring strictly higher than the right one.
        let rank = similarity.gt_tensor(&own).sum_dim_intlist([1i64].as_slice(), false, Kind::Float) + 1.0;
        let queries = rank.size()[0] as usize;
        Retrieval {
            recall_at_1: rank.le(1.0).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]),
            recall_at_10: rank.le(10.0).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]),
            mean_reciprocal_rank: rank.reciprocal().mean(Kind::Float).double_value(&[]),
            queries,
        }
    })
}

/// How often a vector's nearest other vector (by cosine) has the same label; rows are unit
/// vectors, `labels` one per row.
pub fn nearest_neighbour_accuracy(vectors: &Tensor, labels: &[i64]) -> f64 {
    const CHUNK: i64 = 2048;
    let count = vectors.size()[0];
    assert_eq!(count as usize, labels.len(), "one label per vector");
    let labels_tensor = Tensor::from_slice(labels).to_device(vectors.device());
    let mut agreeing = 0i64;
    tch::no_grad(|| {
        for start in (0..count).step_by(CHUNK as usize) {
            let rows = CHUNK.min(count - start);
            let similarity = vectors.narrow(0, start, rows).matmul(&vectors.transpose(0, 1));
            // A vector is not its own neighbour.
            let own = Tensor::arange_start(start, start + rows, (Kind::Int64, vectors.device())).unsqueeze(1);
            let similarity = similarity.scatter_value(1, &own, f64::NEG_INFINITY);
            let nearest = similarity.argmax(1, false);
            let same = labels_tensor.index_select(0, &nearest).eq_tensor(&labels_tensor.narrow(0, start, rows));
            agreeing += same.sum(Kind::Int64).int64_value(&[]);
        }
    });
    agreeing as f64 / count.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retrieval_ranks_the_right_answer() {
        let images = Tensor::from_slice2(&[[1.0f32, 0.0], [0.0, 1.0], [0.6, 0.8]]);
        // Query 0 finds its photo first; query 1 finds photo 2 before its own.
        let texts = Tensor::from_slice2(&[[1.0f32, 0.0], [0.5, 0.866], [0.6, 0.8]]);
        let metrics = text_to_image(&texts, &images);
        assert_eq!(metrics.queries, 3);
        assert!((metrics.recall_at_1 - 2.0 / 3.0).abs() < 1e-6, "{metrics:?}");
        assert!((metrics.recall_at_10 - 1.0).abs() < 1e-6);
        assert!((metrics.mean_reciprocal_rank - (1.0 + 0.5 + 1.0) / 3.0).abs() < 1e-6);
    }

    #[test]
    fn nearest_neighbours_skip_themselves() {
        let vectors = Tensor::from_slice2(&[[1.0f32, 0.0], [0.99, 0.141], [0.0, 1.0], [0.141, 0.99]]);
        assert_eq!(nearest_neighbour_accuracy(&vectors, &[7, 7, 3, 3]), 1.0);
        assert_eq!(nearest_neighbour_accuracy(&vectors, &[7, 3, 3, 7]), 0.0);
    }
}
