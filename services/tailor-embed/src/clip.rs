//! CLIP (Radford et al.): a ViT image tower and a causal text transformer, each projected into a
//! shared space, loaded from a Hugging Face model directory (`config.json`, `model.safetensors`,
//! `tokenizer.json` with CLIP's byte-level BPE). Sizes come from the configuration, so any CLIP
//! checkpoint in that layout loads: OpenAI's, fashion-tuned ones, or a tiny test model.

use std::path::Path;

use serde::Deserialize;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::EmbedError;
use crate::image_input::{CLIP_MEAN, CLIP_STD, ImageNormalisation};
use crate::joint::unit_rows;
use crate::weights::load_weights;

/// `config.json`; defaults are those of `transformers`' CLIP configuration classes, which older
/// checkpoints rely on.
#[derive(Debug, Deserialize)]
struct ClipConfig {
    #[serde(default = "default_projection_dim")]
    projection_dim: i64,
    text_config: TextConfig,
    vision_config: VisionConfig,
}

fn default_projection_dim() -> i64 {
    512
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct TextConfig {
    vocab_size: i64,
    hidden_size: i64,
    intermediate_size: i64,
    num_hidden_layers: usize,
    num_attention_heads: i64,
    max_position_embeddings: i64,
    hidden_act: String,
    layer_norm_eps: f64,
    eos_token_id: i64,
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig {
            vocab_size: 49408,
            hidden_size: 512,
            intermediate_size: 2048,
            num_hidden_layers: 12,
            num_attention_heads: 8,
            max_position_embeddings: 77,
            hidden_act: "quick_gelu".to_owned(),
            layer_norm_eps: 1e-5,
            eos_token_id: 49407,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct VisionConfig {
    hidden_size: i64,
    intermediate_size: i64,
    num_hidden_layers: usize,
    num_attention_heads: i64,
    image_size: i64,
    patch_size: i64,
    hidden_act: String,
    layer_norm_eps: f64,
}

impl Default for VisionConfig {
    fn default() -> Self {
        VisionConfig {
            hidden_size: 768,
            intermediate_size: 3072,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            image_size: 224,
            patch_size: 32,
            hidden_act: "quick_gelu".to_owned(),
            layer_norm_eps: 1e-5,
        }
    }
}

/// The sizes of one tower's transformer.
#[derive(Clone, Copy, Debug)]
struct Shape {
    layers: usize,
    hidden: i64,
    intermediate: i64,
    heads: i64,
    eps: f64,
}

impl TextConfig {
    fn shape(&self) -> Shape {
        Shape {
            layers: self.num_hidden_layers,
            hidden: self.hidden_size,
            intermediate: self.intermediate_size,
            heads: self.num_attention_heads,
            eps: self.layer_norm_eps,
        }
    }
}

impl VisionConfig {
    fn shape(&self) -> Shape {
        Shape {
            layers: self.num_hidden_layers,
            hidden: self.hidden_size,
            intermediate: self.intermediate_size,
            heads: self.num_attention_heads,
            eps: self.layer_norm_eps,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Activation {
    QuickGelu,
    Gelu,
}

impl Activation {
    fn parse(name: &str, config: &Path) -> Result<Activation, EmbedError> {
        match name {
            "quick_gelu" => Ok(Activation::QuickGelu),
            "gelu" => Ok(Activation::Gelu),
            other => Err(EmbedError::Config {
                path: config.to_path_buf(),
                reason: format!("hidden_act {other:?} is not supported (quick_gelu, gelu)"),
            }),
        }
    }

    fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Activation::QuickGelu => x * (x * 1.702).sigmoid(),
            Activation::Gelu => x.gelu("none"),
        }
    }
}

/// A pre-norm transformer layer, as both CLIP towers use.
#[derive(Debug)]
struct Layer {
    norm1: nn::LayerNorm,
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    out: nn::Linear,
    norm2: nn::LayerNorm,
    fc1: nn::Linear,
    fc2: nn::Linear,
    heads: i64,
    activation: Activation,
}

impl Layer {
    fn new(vs: nn::Path, shape: &Shape, activation: Activation) -> Layer {
        let Shape { hidden, intermediate, heads, eps, .. } = *shape;
        let norm =
            |name: &str| nn::layer_norm(&vs / name, vec![hidden], nn::LayerNormConfig { eps, ..Default::default() });
        let attention = &vs / "self_attn";
        let linear = |path: nn::Path, i, o| nn::linear(path, i, o, Default::default());
        Layer {
            norm1: norm("layer_norm1"),
            query: linear(&attention / "q_proj", hidden, hidden),
            key: linear(&attention / "k_proj", hidden, hidden),
            value: linear(&attention / "v_proj", hidden, hidden),
            out: linear(&attention / "out_proj", hidden, hidden),
            norm2: norm("layer_norm2"),
            fc1: linear(&vs / "mlp" / "fc1", hidden, intermediate),
            fc2: linear(&vs / "mlp" / "fc2", intermediate, hidden),
            heads,
            activation,
        }
    }

    /// `mask`: additive, broadcastable to [batch, heads, tokens, tokens], or `None`.
    fn forward(&self, x: &Tensor, mask: Option<&Tensor>) -> Tensor {
        let (batch, tokens, hidden) = x.size3().expect("[batch, tokens, hidden]");
        let head_dim = hidden / self.heads;
        let split = |t: Tensor| t.view([batch, tokens, self.heads, head_dim]).transpose(1, 2);
        let h = self.norm1.forward(x);
        let q = split(self.query.forward(&h) * (head_dim as f64).powf(-0.5));
        let (k, v) = (split(self.key.forward(&h)), split(self.value.forward(&h)));
        let mut scores = q.matmul(&k.transpose(-1, -2));
        if let Some(mask) = mask {
            scores += mask;
        }
        let context =
            scores.softmax(-1, Kind::Float).matmul(&v).transpose(1, 2).contiguous().view([batch, tokens, hidden]);
        let x = x + self.out.forward(&context);
        let h = self.fc2.forward(&self.activation.apply(&self.fc1.forward(&self.norm2.forward(&x))));
        x + h
    }
}

#[derive(Debug)]
struct Towers {
    token_embedding: nn::Embedding,
    text_positions: nn::Embedding,
    text_layers: Vec<Layer>,
    final_norm: nn::LayerNorm,
    text_projection: nn::Linear,
    class_embedding: Tensor,
    patch_embedding: nn::Conv2D,
    vision_positions: nn::Embedding,
    pre_norm: nn::LayerNorm,
    vision_layers: Vec<Layer>,
    post_norm: nn::LayerNorm,
    visual_projection: nn::Linear,
}

impl Towers {
    fn new(root: &nn::Path, config: &ClipConfig, activations: (Activation, Activation)) -> Towers {
        let (t, v) = (&config.text_config, &config.vision_config);
        let (text, vision) = (root / "text_model", root / "vision_model");
        let layer_norm = |path: nn::Path, hidden, eps| {
            nn::layer_norm(path, vec![hidden], nn::LayerNormConfig { eps, ..Default::default() })
        };
        let embedding = |path: nn::Path, count, hidden| nn::embedding(path, count, hidden, Default::default());
        let no_bias = nn::LinearConfig { bias: false, ..Default::default() };
        let layers = |path: &nn::Path, shape: Shape, activation| -> Vec<Layer> {
            (0..shape.layers).map(|i| Layer::new(path / "encoder" / "layers" / i, &shape, activation)).collect()
        };
        let patches = (v.image_size / v.patch_size).pow(2);
        Towers {
            token_embedding: embedding(&text / "embeddings" / "token_embedding", t.vocab_size, t.hidden_size),
            text_positions: embedding(
                &text / "embeddings" / "position_embedding",
                t.max_position_embeddings,
                t.hidden_size,
            ),
            text_layers: layers(&text, t.shape(), activations.0),
            final_norm: layer_norm(&text / "final_layer_norm", t.hidden_size, t.layer_norm_eps),
            text_projection: nn::linear(root / "text_projection", t.hidden_size, config.projection_dim, no_bias),
            class_embedding: (&vision / "embeddings").var("class_embedding", &[v.hidden_size], nn::Init::Const(0.0)),
            patch_embedding: nn::conv2d(
                &vision / "embeddings" / "patch_embedding",
                3,
                v.hidden_size,
                v.patch_size,
                nn::ConvConfig { stride: v.patch_size, bias: false, ..Default::default() },
            ),
            vision_positions: embedding(&vision / "embeddings" / "position_embedding", patches + 1, v.hidden_size),
            pre_norm: layer_norm(&vision / "pre_layrnorm", v.hidden_size, v.layer_norm_eps),
            vision_layers: layers(&vision, v.shape(), activations.1),
            post_norm: layer_norm(&vision / "post_layernorm", v.hidden_size, v.layer_norm_eps),
            visual_projection: nn::linear(root / "visual_projection", v.hidden_size, config.projection_dim, no_bias),
        }
    }
}

#[derive(Debug)]
pub struct Clip {
    vs: nn::VarStore,
    /// BLAKE3 of the weights and configuration, so cached vectors of one checkpoint are never
    /// taken for another's.
    fingerprint: String,
    tokenizer: Tokenizer,
    towers: Towers,
    eos_token_id: i64,
    normalisation: ImageNormalisation,
    projection_dim: i64,
}

impl Clip {
    pub fn load(model_dir: &Path, device: Device) -> Result<Clip, EmbedError> {
        let config_path = model_dir.join("config.json");
        let bad_config = |reason: String| EmbedError::Config { path: config_path.clone(), reason };
        let text = std::fs::read_to_string(&config_path).map_err(|e| bad_config(e.to_string()))?;
        let config: ClipConfig = serde_json::from_str(&text).map_err(|e| bad_config(e.to_string()))?;
        let (t, v) = (&config.text_config, &config.vision_config);
        if t.hidden_size % t.num_attention_heads != 0 || v.hidden_size % v.num_attention_heads != 0 {
            return Err(bad_config("hidden_size must be a multiple of num_attention_heads".to_owned()));
        }
        if v.image_size % v.patch_size != 0 {
            return Err(bad_config("image_size must be a multiple of patch_size".to_owned()));
        }
        let tokenizer = load_tokenizer(&model_dir.join("tokenizer.json"), t.max_position_embeddings as usize)?;
        let activations =
            (Activation::parse(&t.hidden_act, &config_path)?, Activation::parse(&v.hidden_act, &config_path)?);
        let mut vs = nn::VarStore::new(device);
        let towers = Towers::new(&vs.root(), &config, activations);
        let weights = model_dir.join("model.safetensors");
        load_weights(&mut vs, &weights)?;
        vs.freeze();
        let mut hasher = blake3::Hasher::new();
        hasher.update(text.as_bytes());
        hasher
            .update_mmap(&weights)
            .map_err(|e| EmbedError::Weights { path: weights.clone(), reason: e.to_string() })?;
        Ok(Clip {
            vs,
            fingerprint: hasher.finalize().to_hex()[..16].to_owned(),
            tokenizer,
            towers,
            eos_token_id: t.eos_token_id,
            normalisation: ImageNormalisation { size: v.image_size, mean: CLIP_MEAN, std: CLIP_STD },
            projection_dim: config.projection_dim,
        })
    }

    pub fn dim(&self) -> i64 {
        self.projection_dim
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn normalisation(&self) -> &ImageNormalisation {
        &self.normalisation
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Token ids for `texts`, with start and end tokens, cut to the context length and padded to
    /// the longest: [batch, tokens].
    pub fn tokenize(&self, texts: &[&str]) -> Result<Tensor, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenizer { path: "tokenizer.json".into(), reason: e.to_string() })?;
        let ids: Vec<i64> = encodings.iter().flat_map(|e| e.get_ids().iter().map(|&i| i as i64)).collect();
        let shape = [texts.len() as i64, (ids.len() / texts.len().max(1)) as i64];
        Ok(Tensor::from_slice(&ids).view(shape).to(self.device()))
    }

    /// Unit text vectors in CLIP's space: [batch, projection_dim].
    pub fn embed_texts(&self, texts: &[&str]) -> Result<Tensor, EmbedError> {
        let ids = self.tokenize(texts)?;
        Ok(self.embed_tokens(&ids))
    }

    pub fn embed_tokens(&self, ids: &Tensor) -> Tensor {
        tch::no_grad(|| {
            let (batch, tokens) = ids.size2().expect("[batch, tokens]");
            let positions = Tensor::arange(tokens, (Kind::Int64, ids.device())).unsqueeze(0);
            let mut x = self.towers.token_embedding.forward(ids) + self.towers.text_positions.forward(&positions);
            // Each token sees only those before it; padding comes after the end token that is
            // pooled, so it never reaches the output.
            let causal = Tensor::full([tokens, tokens], f64::from(f32::MIN), (Kind::Float, ids.device())).triu(1);
            for layer in &self.towers.text_layers {
                x = layer.forward(&x, Some(&causal));
            }
            x = self.towers.final_norm.forward(&x);
            // The end-of-text token's state; checkpoints whose end token is id 2 predate the
            // explicit id and use the largest id, as `transformers` does.
            let end = if self.eos_token_id == 2 {
                ids.argmax(-1, false)
            } else {
                ids.eq(self.eos_token_id).to_kind(Kind::Int).argmax(-1, false)
            };
            let pooled = x.index(&[Some(Tensor::arange(batch, (Kind::Int64, ids.device()))), Some(end)]);
            unit_rows(&self.towers.text_projection.forward(&pooled))
        })
    }

    /// Unit photo vectors in CLIP's space for preprocessed images [batch, 3, size, size].
    pub fn embed_images(&self, images: &Tensor) -> Tensor {
        tch::no_grad(|| {
            let patches = self.towers.patch_embedding.forward(images).flatten(2, 3).transpose(1, 2);
            let batch = patches.size()[0];
            let class = self.towers.class_embedding.view([1, 1, -1]).expand([batch, 1, -1], false);
            let tokens = patches.size()[1] + 1;
            let positions = Tensor::arange(tokens, (Kind::Int64, images.device())).unsqueeze(0);
            let mut x = Tensor::cat(&[class, patches], 1) + self.towers.vision_positions.forward(&positions);
            x = self.towers.pre_norm.forward(&x);
            for layer in &self.towers.vision_layers {
                x = layer.forward(&x, None);
            }
            let pooled = self.towers.post_norm.forward(&x.select(1, 0));
            unit_rows(&self.towers.visual_projection.forward(&pooled))
        })
    }
}

fn load_tokenizer(path: &Path, context: usize) -> Result<Tokenizer, EmbedError> {
    let bad = |reason: String| EmbedError::Tokenizer { path: path.to_path_buf(), reason };
    let mut tokenizer = Tokenizer::from_file(path).map_err(|e| bad(e.to_string()))?;
    let padding = tokenizer.get_padding().cloned().unwrap_or_default();
    tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..padding }));
    tokenizer
        .with_truncation(Some(TruncationParams { max_length: context, ..Default::default() }))
        .map_err(|e| bad(e.to_string()))?;
    Ok(tokenizer)
}
