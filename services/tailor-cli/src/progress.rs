//! The embedder's progress on a terminal: a bar per stage, or lines in a log.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use tailor_embed::{Progress, Stage};

/// Shows each stage as a bar with items/s and the time left; where stderr is not a terminal (a
/// log file, CI), a line at every tenth of the way instead.
#[derive(Default)]
pub struct Bar(Mutex<Option<ProgressBar>>);

fn log_line(bar: &ProgressBar) {
    let eta = bar.eta().as_secs();
    eprintln!(
        "{} {}/{} ({:.0}/s, ETA {}m{:02}s)",
        bar.message(),
        bar.position(),
        bar.length().unwrap_or(0),
        bar.per_sec(),
        eta / 60,
        eta % 60
    );
}

impl Progress for Bar {
    fn start(&self, stage: Stage, total: u64, cached: u64) {
        let name = match stage {
            Stage::Texts => "texts ",
            Stage::Photos => "photos",
        };
        let bar = ProgressBar::new(total).with_message(format!("{name} ({cached} cached)"));
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_position(cached);
        bar.reset_eta();
        *self.0.lock().expect("progress lock") = Some(bar);
    }

    fn advance(&self, count: u64) {
        if let Some(bar) = self.0.lock().expect("progress lock").as_ref() {
            let tenth = bar.length().unwrap_or(0).div_ceil(10).max(1);
            let before = bar.position() / tenth;
            bar.inc(count);
            if bar.is_hidden() && bar.position() / tenth > before {
                log_line(bar);
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.0.lock().expect("progress lock").take() {
            bar.finish();
            if bar.is_hidden() {
                log_line(&bar);
            }
        }
    }
}
