//! A shared space for the offline encoder pair. EfficientNet-Lite0 and MiniLM were trained apart,
//! so their vectors cannot be compared; two projection heads (photo -> d, text -> d) are trained
//! contrastively on the catalogue's own photo/title pairs, with the encoders frozen, using CLIP's
//! symmetric InfoNCE loss with a learnable temperature. Afterwards a title, a query or a persona
//! description can be compared with a photo, as with CLIP.

use std::path::Path;

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use crate::weights::load_weights;
use crate::{EmbedError, IMAGE_FEATURE_DIM, TEXT_DIM};

#[derive(Clone, Debug, PartialEq)]
pub struct JointConfig {
    pub dim: i64,
    pub epochs: usize,
    pub batch: i64,
    pub learning_rate: f64,
    pub seed: i64,
}

impl Default for JointConfig {
    fn default() -> Self {
        JointConfig { dim: 256, epochs: 40, batch: 512, learning_rate: 1e-3, seed: 17 }
    }
}

/// CLIP's initial temperature (0.07) and its cap on the logit scale (100).
const INITIAL_LOG_SCALE: f64 = 2.659_260_036_932_778;
const MAX_LOG_SCALE: f64 = 4.605_170_185_988_092;

pub struct JointSpace {
    vs: nn::VarStore,
    image_mean: Tensor,
    image: nn::Linear,
    text: nn::Linear,
    log_scale: Tensor,
}

impl JointSpace {
    fn build(device: Device, dim: i64) -> JointSpace {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let image_mean = root.zeros_no_train("image_mean", &[IMAGE_FEATURE_DIM]);
        let image = nn::linear(&root / "image", IMAGE_FEATURE_DIM, dim, Default::default());
        let text = nn::linear(&root / "text", TEXT_DIM, dim, Default::default());
        let log_scale = root.var("log_scale", &[1], nn::Init::Const(INITIAL_LOG_SCALE));
        JointSpace { vs, image_mean, image, text, log_scale }
    }

    pub fn dim(&self) -> i64 {
        self.image.ws.size()[0]
    }

    /// Trains the heads on paired rows of `image` ([n, 1280]) and `text` ([n, 384]) features.
    pub fn train(
        image: &Tensor,
        text: &Tensor,
        config: &JointConfig,
        device: Device,
    ) -> Result<JointSpace, EmbedError> {
        let pairs = image.size()[0];
        if pairs != text.size()[0] || pairs < 2 {
            return Err(EmbedError::Training(format!(
                "{pairs} items with both a photo and a text to learn from; at least 2 are needed"
            )));
        }
        tch::manual_seed(config.seed);
        let mut space = JointSpace::build(device, config.dim);
        let (image, text) = (image.to(device), text.to(device));
        tch::no_grad(|| space.image_mean.copy_(&image.mean_dim([0i64].as_slice(), false, Kind::Float)));
        let mut optimiser = nn::Adam::default().build(&space.vs, config.learning_rate).map_err(EmbedError::Torch)?;
        for _ in 0..config.epochs {
            let order = Tensor::randperm(pairs, (Kind::Int64, device));
            for start in (0..pairs).step_by(config.batch as usize) {
                let rows = order.narrow(0, start, config.batch.min(pairs - start));
                if rows.size()[0] < 2 {
                    continue;
                }
                let loss = space.loss(&image.index_select(0, &rows), &text.index_select(0, &rows));
                optimiser.backward_step(&loss);
                let _ = tch::no_grad(|| space.log_scale.clamp_max_(MAX_LOG_SCALE));
            }
        }
        space.vs.freeze();
        Ok(space)
    }

    /// Symmetric InfoNCE: each photo should pick its own title among the batch, and each title
    /// its own photo.
    fn loss(&self, image: &Tensor, text: &Tensor) -> Tensor {
        let logits = self.image_unit(image).matmul(&self.text_unit(text).transpose(0, 1)) * self.log_scale.exp();
        let targets = Tensor::arange(logits.size()[0], (Kind::Int64, logits.device()));
        (logits.cross_entropy_for_logits(&targets) + logits.transpose(0, 1).cross_entropy_for_logits(&targets)) / 2.0
    }

    fn image_unit(&self, features: &Tensor) -> Tensor {
        unit_rows(&self.image.forward(&unit_rows(&(features - &self.image_mean))))
    }

    fn text_unit(&self, features: &Tensor) -> Tensor {
        unit_rows(&self.text.forward(features))
    }

    /// Unit vectors in the joint space for photo features [n, 1280].
    pub fn project_image(&self, features: &Tensor) -> Tensor {
        tch::no_grad(|| self.image_unit(&features.to(self.vs.device())))
    }

    /// Unit vectors in the joint space for text embeddings [n, 384].
    pub fn project_text(&self, features: &Tensor) -> Tensor {
        tch::no_grad(|| self.text_unit(&features.to(self.vs.device())))
    }

    /// The temperature the training settled on.
    pub fn temperature(&self) -> f64 {
        1.0 / self.log_scale.exp().double_value(&[0])
    }

    pub fn save(&self, path: &Path) -> Result<(), EmbedError> {
        self.vs.save(path).map_err(|e| EmbedError::Weights { path: path.to_path_buf(), reason: e.to_string() })
    }

    pub fn load(path: &Path, dim: i64, device: Device) -> Result<JointSpace, EmbedError> {
        let mut space = JointSpace::build(device, dim);
        load_weights(&mut space.vs, path)?;
        space.vs.freeze();
        Ok(space)
    }
}

pub(crate) fn unit_rows(x: &Tensor) -> Tensor {
    x / x.norm_scalaropt_dim(2, [1i64].as_slice(), true).clamp_min(1e-12)
}
