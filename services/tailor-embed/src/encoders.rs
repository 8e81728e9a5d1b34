//! What the extraction needs from an encoder, so the offline pair and CLIP run through the same
//! batching and cache.

use tch::{Device, Tensor};

use crate::image_input::{IMAGENET, ImageNormalisation};
use crate::{Clip, EfficientNetLite0, EmbedError, MiniLm};

pub trait PhotoEncoder {
    /// Names the encoder and its preprocessing in cache keys; change it when either changes.
    fn cache_name(&self) -> String;
    fn normalisation(&self) -> &ImageNormalisation;
    fn device(&self) -> Device;
    /// Preprocessed photos [batch, 3, size, size] to vectors [batch, dim].
    fn encode_photos(&self, images: &Tensor) -> Tensor;
}

pub trait TextEncoder {
    fn cache_name(&self) -> String;
    fn encode_texts(&self, texts: &[&str]) -> Result<Tensor, EmbedError>;
}

impl PhotoEncoder for EfficientNetLite0 {
    fn cache_name(&self) -> String {
        "efficientnet-lite0/white-square-224/1".to_owned()
    }

    fn normalisation(&self) -> &ImageNormalisation {
        &IMAGENET
    }

    fn device(&self) -> Device {
        EfficientNetLite0::device(self)
    }

    fn encode_photos(&self, images: &Tensor) -> Tensor {
        self.features(images)
    }
}

impl TextEncoder for MiniLm {
    fn cache_name(&self) -> String {
        "all-minilm-l6-v2/max-256/1".to_owned()
    }

    fn encode_texts(&self, texts: &[&str]) -> Result<Tensor, EmbedError> {
        self.embed(texts)
    }
}

impl PhotoEncoder for Clip {
    fn cache_name(&self) -> String {
        format!("clip-image/{}/white-square/1", self.fingerprint())
    }

    fn normalisation(&self) -> &ImageNormalisation {
        Clip::normalisation(self)
    }

    fn device(&self) -> Device {
        Clip::device(self)
    }

    fn encode_photos(&self, images: &Tensor) -> Tensor {
        self.embed_images(images)
    }
}

impl TextEncoder for Clip {
    fn cache_name(&self) -> String {
        format!("clip-text/{}/1", self.fingerprint())
    }

    fn encode_texts(&self, texts: &[&str]) -> Result<Tensor, EmbedError> {
        self.embed_texts(texts)
    }
}
