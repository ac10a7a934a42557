//! zkinfer prover: SRS handling, key generation and proving.
//!
//! ```
//! use std::sync::Arc;
//! use zkinfer_circuits::plan;
//! use zkinfer_ir::testkit::{graph, node, tensor};
//! use zkinfer_ir::QOp;
//! use zkinfer_prover::srs::generate_insecure;
//!
//! let g = Arc::new(graph(tensor(3, 100), vec![node("relu", QOp::Relu, &[0], tensor(3, 100))]));
//! let params = plan(&g)?.params;
//! let srs = generate_insecure(params.k); // a test SRS: never for real proofs
//! let keys = zkinfer_prover::setup(g.clone(), &params, &srs)?;
//! let trace = zkinfer_prover::run_checked(&g, &[-16, 0, 40])?;
//! let proof = zkinfer_prover::prove(g, &params, &keys.pk, &srs, trace, "example")?;
//! assert!(!proof.proof.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
