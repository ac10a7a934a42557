//! zkinfer: verifiable inference. A thin facade over the workspace crates plus the
//! pieces the CLI shares (bundled example model, progress). The flows themselves
//! (compile, setup, prove, verify, export) are [`pipeline`].
//!
//! ```
//! // The bundled models `zkinfer demo --model NAME` runs, imported as float graphs.
//! for m in zkinfer::example::MODELS {
//!     let graph = zkinfer::compiler::onnx::import_bytes(m.model)?;
//!     assert!(!graph.nodes.is_empty(), "{}", m.name);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod example;
pub mod progress;

pub use zkinfer_circuits as circuits;
pub use zkinfer_compiler as compiler;
pub use zkinfer_ir as ir;
pub use zkinfer_pipeline as pipeline;
pub use zkinfer_pipeline::layout;
pub use zkinfer_prover as prover;
pub use zkinfer_runtime as runtime;
pub use zkinfer_verifier as verifier;
