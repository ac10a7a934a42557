//! zkinfer models: the IR, ONNX import, quantization, artifact formats and the
//! reference integer semantics every other crate is tested against.

pub mod artifact;
pub mod error;
pub mod geometry;
pub mod graph;
pub mod input;
pub mod onnx;
pub mod proof_file;
pub mod qgraph;
pub mod quantize;
pub mod semantics;
pub mod validate;

pub use error::{ArtifactError, EvalError, QuantizeError};
pub use graph::{Graph, Node, Op, TensorId, UnaryFn};
pub use qgraph::{QGraph, QNode, QOp, QTensor, Table};
pub use quantize::{quantize, quantize_with, QuantizeConfig, Quantized, TableScales};
pub use semantics::Trace;
pub use validate::InvalidModel;
