//! Photo preprocessing for the image encoders: decode, pad to a square on white (product shots
//! sit on white, and padding keeps the whole garment where a centre crop would cut it), resize
//! with bilinear interpolation (libtorch's, so Python reproduces it exactly), and normalise with
//! the encoder's channel statistics.

use std::path::Path;

use tch::{Kind, Tensor};

use crate::EmbedError;

/// The input size and per-channel statistics an image encoder was trained with.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageNormalisation {
    pub size: i64,
    pub mean: [f64; 3],
    pub std: [f64; 3],
}

/// EfficientNet-Lite0's: 224 x 224, ImageNet statistics.
pub const IMAGENET: ImageNormalisation =
    ImageNormalisation { size: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/// OpenAI CLIP's statistics; the size comes from the model's configuration.
pub const CLIP_MEAN: [f64; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
pub const CLIP_STD: [f64; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];

/// Reads and preprocesses one photo: [3, size, size].
pub fn load_image(path: &Path, normalisation: &ImageNormalisation) -> Result<Tensor, EmbedError> {
    let bytes =
        std::fs::read(path).map_err(|e| EmbedError::Image { path: path.to_path_buf(), reason: e.to_string() })?;
    decode_image(&bytes, path, normalisation)
}

/// Decodes and preprocesses a photo's file contents; `path` names it in errors.
pub fn decode_image(bytes: &[u8], path: &Path, normalisation: &ImageNormalisation) -> Result<Tensor, EmbedError> {
    let image = image::load_from_memory(bytes)
        .map_err(|e| EmbedError::Image { path: path.to_path_buf(), reason: e.to_string() })?
        .to_rgb8();
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 {
        return Err(EmbedError::Image { path: path.to_path_buf(), reason: "the image is empty".to_owned() });
    }
    Ok(preprocess(image.as_raw(), width as i64, height as i64, normalisation))
}

/// `rgb`: interleaved 8-bit RGB, row by row.
pub fn preprocess(rgb: &[u8], width: i64, height: i64, normalisation: &ImageNormalisation) -> Tensor {
    let side = width.max(height);
    let (left, top) = ((side - width) / 2, (side - height) / 2);
    let padding = [left, side - width - left, top, side - height - top];
    let pixels = Tensor::from_slice(rgb).view([height, width, 3]).permute([2, 0, 1]).to_kind(Kind::Float) / 255.0;
    // Padding adds zeros; subtracting the padded ones and adding one turns them white.
    let white = Tensor::ones([3, height, width], (Kind::Float, pixels.device())).constant_pad_nd(padding);
    let square = pixels.constant_pad_nd(padding) - &white + 1.0;
    let size = normalisation.size;
    let resized = square.unsqueeze(0).upsample_bilinear2d([size, size], false, None, None).squeeze_dim(0);
    let mean = Tensor::from_slice(&normalisation.mean).to_kind(Kind::Float).view([3, 1, 1]);
    let std = Tensor::from_slice(&normalisation.std).to_kind(Kind::Float).view([3, 1, 1]);
    (resized - mean) / std
}
