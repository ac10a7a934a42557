//! zkinfer prover: SRS handling, key generation and proving.

pub mod error;
pub mod keys;
#[cfg(feature = "malicious-prover")]
pub mod malicious;
pub mod prove;
pub mod srs;
mod srs_format;
mod srs_gen;
pub mod srs_import;

pub use error::{ProverError, SrsImportError};
pub use keys::{setup, Keys};
pub use prove::{prove, prove_with_salt, run_checked, run_checked_on};
