//! zkinfer verifier: checks a proof offline from a self-contained verifying key.
//! It needs neither the ONNX file, nor the runtime, nor the prover.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod calldata;
pub mod error;
pub mod evm;
#[doc(hidden)]
pub mod fuzzing;
pub mod key;
pub mod verify;

pub use error::VerifyError;
pub use key::VerifierKey;
pub use verify::{check_proof, verify, Verified};
