//! Progress on standard error: a spinner for steps that may take more than a second, and the
//! CLI's [`Observer`] of the library flows.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use zkinfer_pipeline::Observer;

fn spinner(label: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(label.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Runs `f` under a spinner labelled `label`, then prints how long it took.
pub fn step<T>(label: &str, f: impl FnOnce() -> T) -> (T, Duration) {
    let bar = spinner(label);
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    bar.finish_and_clear();
    eprintln!("{label}: {:.2} s", took.as_secs_f64());
    (out, took)
}

/// The CLI's observer: a spinner per step, its time once done, warnings, notes and written
/// files on standard error.
#[derive(Debug, Default)]
pub struct Terminal {
    bar: Mutex<Option<ProgressBar>>,
}

impl Observer for Terminal {
    fn begin(&self, label: &str) {
        if let Ok(mut bar) = self.bar.lock() {
            *bar = Some(spinner(label));
        }
    }

    fn end(&self, label: &str, took: Duration) {
        if let Ok(mut bar) = self.bar.lock() {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
        }
        eprintln!("{label}: {:.2} s", took.as_secs_f64());
    }

    fn warn(&self, message: &str) {
        eprintln!("{message}");
    }

    fn note(&self, message: &str) {
        eprintln!("{message}");
    }

    fn wrote(&self, path: &Path, bytes: u64) {
        eprintln!("wrote {} ({})", path.display(), human_bytes(bytes));
    }
}

/// `1.2 MiB`-style size.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Peak resident memory of this process so far, in bytes (Linux; `None` elsewhere).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
