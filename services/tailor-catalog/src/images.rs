//! Finding and checking item photos at ingestion. Only the header is read (dimensions), so
//! checking the full Myntra set takes a fraction of a second; full decoding happens when embedding.

use std::path::{Path, PathBuf};

use tailor_core::ImageRef;

/// Where a row says its photo is.
#[derive(Debug, PartialEq)]
pub(crate) enum ImageSource {
    None,
    /// A path the layout derives from the id: the photo may legitimately not exist.
    Conventional(PathBuf),
    /// A path (relative to the source file) or URL the row names: it is expected to exist.
    Declared(String),
    /// A photo checked before, under the same reference: not read again.
    Probed(ImageRef),
}

pub(crate) enum Probe {
    Found(ImageRef),
    Absent,
    /// The row has a photo that cannot be used; the reason names the file.
    Unusable(String),
}

/// `base_dir` must be absolute so that stored paths are too.
pub(crate) fn probe(source: ImageSource, base_dir: &Path) -> Probe {
    match source {
        ImageSource::None => Probe::Absent,
        ImageSource::Probed(image) => Probe::Found(image),
        ImageSource::Conventional(path) if !path.exists() => Probe::Absent,
        ImageSource::Conventional(path) => probe_file(&path),
        ImageSource::Declared(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Probe::Found(ImageRef::Url { url })
        }
        ImageSource::Declared(relative) => {
            let path = base_dir.join(relative);
            if path.exists() {
                probe_file(&path)
            } else {
                Probe::Unusable(format!("image {} not found", path.display()))
            }
        }
    }
}

fn probe_file(path: &Path) -> Probe {
    let Some(text) = path.to_str() else {
        return Probe::Unusable(format!("image path {} is not valid UTF-8", path.display()));
    };
    match imagesize::size(path) {
        Ok(size) if size.width > 0 && size.height > 0 => {
            Probe::Found(ImageRef::File { path: text.to_owned(), width: size.width as u32, height: size.height as u32 })
        }
        Ok(_) => Probe::Unusable(format!("image {text} has zero width or height")),
        Err(e) => Probe::Unusable(format!("image {text} is unreadable ({e})")),
    }
}
