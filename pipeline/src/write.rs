//! Atomic writes that tell the observer.

use std::path::Path;

use zkinfer_ir::artifact;

use crate::error::Result;
use crate::observer::Observer;

/// Writes `bytes` to `path` atomically (a temporary file renamed into place) and tells `obs`.
pub fn write(obs: &dyn Observer, path: &Path, bytes: &[u8]) -> Result<()> {
    artifact::write_atomic(path, bytes)?;
    obs.wrote(path, bytes.len() as u64);
    Ok(())
}
