//! zkinfer's flows as a library: compile an ONNX model, set up its keys, prove an inference,
//! verify a proof, export the Solidity verifier. Errors are [`PipelineError`]s that name the
//! file, option or value at fault; progress goes to an [`Observer`].
//!
//! The CLI, the Python package and the proving service are thin layers over this crate.
//!
//! ```
//! use zkinfer_compiler::onnx::encode::{mlp_model, LayerSpec};
//! use zkinfer_pipeline::{compile, prove, setup, DeviceChoice, Input, ModelDir, Quiet, Salt, Source, SrsChoice};
//! use zkinfer_verifier::{verify, VerifierKey};
//!
//! // y = relu(W x + b), compiled with two calibration samples.
//! let layer = LayerSpec { weight: vec![0.5, -1.0, 0.25, 2.0], bias: vec![0.1, 0.0], relu: true };
//! let onnx = mlp_model(2, &[layer]);
//! let samples = vec![vec![1.0, -0.5], vec![-0.25, 0.75]];
//! let tmp = tempfile::tempdir()?;
//! let dir = ModelDir::new(tmp.path());
//! let source = Source { bytes: &onnx, label: "model.onnx", base: None };
//! compile(source, &Input::Values(&samples), Default::default(), &Default::default(), &Quiet)?
//!     .write(tmp.path(), &Quiet)?;
//! setup(tmp.path(), &SrsChoice::InsecureTest, &Quiet)?; // a test SRS: never for real proofs
//! let proved = prove(tmp.path(), &Input::Values(&samples), &Salt::Fresh, DeviceChoice::Cpu, &Quiet)?;
//! let key = VerifierKey::read(&dir.vk())?;
//! assert!(verify(&key, &proved.proof).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod chunked;
pub mod commit;
pub mod compile;
pub mod error;
pub mod export;
pub mod input;
pub mod layout;
pub mod observer;
pub mod prove;
pub mod run;
mod search;
pub mod setup;
pub mod verify;
mod write;

pub use compile::{compile, compile_file, Compiled, InputVisibility, Search, Source};
pub use error::{PipelineError, Result};
pub use export::export_verifier;
pub use input::Input;
pub use layout::ModelDir;
pub use observer::{Observer, Quiet};
pub use prove::{prove, Proved, ProvingModel, Salt};
pub use run::{run, RunOutput};
pub use search::{Tried, DEFAULT_RELATIVE_ERROR};
pub use setup::{setup, SetupOutcome, SrsChoice};
pub use verify::{
    verify, verify_evm, verify_file, verify_proof, ModelSource, VerifyOutcome, VerifyReport,
};
pub use write::write;
pub use zkinfer_runtime::DeviceChoice;
