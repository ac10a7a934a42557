//! zkinfer IR: the quantized graph, its exact integer semantics, convolution geometry, the
//! artifact, input and proof file formats, and model validation. The runtime, circuits,
//! prover and verifier depend on this crate alone; ONNX import lives in `zkinfer-compiler`.
//!
//! ```
//! use zkinfer_ir::testkit::{graph, node, tensor};
//! use zkinfer_ir::QOp;
//!
//! // relu(x) on three values at scale 4 (x = q / 16), every |q| <= 100.
//! let g = graph(tensor(3, 100), vec![node("relu", QOp::Relu, &[0], tensor(3, 100))]);
//! g.validate()?;
//! let trace = g.eval(&[-16, 0, 40])?;
//! assert_eq!(trace.get(g.output), Some(&[0, 0, 40][..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod artifact;
pub mod chunk;
pub mod elementwise;
pub mod error;
pub mod geometry;
pub mod input;
pub mod input_range;
pub mod interface;
pub mod proof_file;
pub mod qgraph;
pub mod semantics;
#[cfg(any(test, feature = "test-utils"))]
pub mod testkit;
pub mod validate;
pub mod visibility;

pub use elementwise::ElementOp;
pub use error::{ArtifactError, EvalError};
pub use interface::{IoPart, NumberKind};
pub use qgraph::{QGraph, QNode, QOp, QTensor, Table, TensorId, MAX_BOUND_BITS};
pub use semantics::Trace;
pub use validate::InvalidModel;
pub use visibility::{ParamVisibility, Visibility};
