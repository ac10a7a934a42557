//! zkinfer verifier: checks a proof offline from a self-contained verifying key.
//! It needs neither the ONNX file, nor the runtime, nor the prover.
//!
//! ```
//! use std::path::Path;
//! use zkinfer_ir::proof_file::ProofFile;
//! use zkinfer_verifier::{verify, VerifierKey};
//!
//! let vk = include_bytes!("../tests/fixtures/example_vk.bin");
//! let proof: ProofFile = serde_json::from_str(include_str!("../tests/fixtures/example_proof.json"))?;
//! let key = VerifierKey::from_bytes(vk, Path::new("vk.bin"))?;
//! let verified = verify(&key, &proof)?;
//! assert!(verified.output.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod calldata;
pub mod chunked;
pub mod error;
pub mod evm;
#[doc(hidden)]
pub mod fuzzing;
pub mod key;
pub mod verify;

pub use error::VerifyError;
pub use key::VerifierKey;
pub use verify::{check_proof, verify, Verified};
