//! One module per CLI verb: each parses nothing, calls the library flow and prints.

pub mod bench;
pub mod calldata;
pub mod compile;
pub mod demo;
pub mod export;
pub mod hash;
pub mod plan;
pub mod prove;
pub mod run;
pub mod serve;
pub mod setup;
pub mod verify;

use std::path::Path;

use anyhow::Result;
use zkinfer::progress::Terminal;

pub use zkinfer::progress::human_bytes;

/// Writes a file atomically and says so.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    zkinfer::pipeline::write(&Terminal::default(), path, bytes)?;
    Ok(())
}
