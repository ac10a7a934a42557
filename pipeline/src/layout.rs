//! Where each artifact lives inside a model directory.

use std::path::{Path, PathBuf};

/// Paths of the artifacts of one compiled model directory.
#[derive(Debug, Clone)]
pub struct ModelDir {
    /// The directory.
    pub dir: PathBuf,
}

impl ModelDir {
    /// Wraps a directory path.
    pub fn new(dir: &Path) -> Self {
        ModelDir {
            dir: dir.to_path_buf(),
        }
    }
    /// `model.zkm`, the compiled model.
    pub fn model(&self) -> PathBuf {
        self.dir.join("model.zkm")
    }
    /// `report.json`, the compile report.
    pub fn report(&self) -> PathBuf {
        self.dir.join("report.json")
    }
    /// `pk.bin`, the proving key.
    pub fn pk(&self) -> PathBuf {
        self.dir.join("pk.bin")
    }
    /// `vk.bin`, the verifying key.
    pub fn vk(&self) -> PathBuf {
        self.dir.join("vk.bin")
    }
    /// `srs.bin`, the KZG parameters used by setup and prove.
    pub fn srs(&self) -> PathBuf {
        self.dir.join("srs.bin")
    }
}
