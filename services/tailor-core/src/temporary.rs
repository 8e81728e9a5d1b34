//! Names for files written beside their target and then renamed over it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A hidden name beside `path`, unique to this process and this call, so that writers in
/// several processes or threads never share a temporary file (which one rename would then
/// publish half-written).
pub fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "file".into(), |name| name.to_string_lossy());
    let unique = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{unique}.partial", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_hidden_beside_the_target_and_never_repeat() {
        let target = Path::new("/data/stream/visitors.snapshot");
        let (first, second) = (temporary_beside(target), temporary_beside(target));
        assert_ne!(first, second);
        for name in [&first, &second] {
            assert_eq!(name.parent(), target.parent());
            let file = name.file_name().unwrap().to_str().unwrap();
            assert!(file.starts_with(".visitors.snapshot.") && file.ends_with(".partial"), "{file}");
        }
    }
}
