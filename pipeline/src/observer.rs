//! How a flow reports its steps, warnings and notes: the CLI shows spinners, the proving
//! service records the step as the job's progress, the Python package stays quiet.

use std::time::{Duration, Instant};

/// Receives a flow's progress. Every method has a do-nothing default.
pub trait Observer: Send + Sync {
    /// A step that may take a while begins (`label`: "proving").
    fn begin(&self, _label: &str) {}
    /// The step `label` ended after `took`.
    fn end(&self, _label: &str, _took: Duration) {}
    /// Something the user must know (an insecure SRS, a budget that cannot be met).
    fn warn(&self, _message: &str) {}
    /// Something worth saying that is not a warning (a stale key beside a new model).
    fn note(&self, _message: &str) {}
    /// A file of `bytes` bytes was written (atomically) at `path`.
    fn wrote(&self, _path: &std::path::Path, _bytes: u64) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// Runs `f` as the step `label`, telling `obs` when it begins and ends.
pub fn step<T>(obs: &dyn Observer, label: &str, f: impl FnOnce() -> T) -> (T, Duration) {
    obs.begin(label);
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    obs.end(label, took);
    (out, took)
}
