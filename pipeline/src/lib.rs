//! zkinfer's flows as a library: compile an ONNX model, set up its keys, prove an inference,
//! verify a proof, export the Solidity verifier. Errors are [`PipelineError`]s that name the
//! file, option or value at fault; progress goes to an [`Observer`].
//!
//! The CLI, the Python package and the proving service are thin layers over this crate.

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
