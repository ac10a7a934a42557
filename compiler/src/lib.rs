//! zkinfer compiler: ONNX import, the float graph, quantization, calibration and accuracy.
//! It turns a trained model into the quantized IR of `zkinfer-ir`; only the CLI, tests and
//! benches depend on it (it alone builds the protobuf stack).

pub mod error;
pub mod graph;
pub mod onnx;
pub mod quantize;
#[cfg(feature = "test-utils")]
pub mod testkit;
pub mod unary;

// The IR modules, under the paths this crate's code has always used.
use zkinfer_ir::{artifact, geometry, input, qgraph, semantics};

pub use error::QuantizeError;
pub use graph::{Graph, Node, Op, TensorId, UnaryFn};
pub use quantize::{
    quantize, quantize_tuned, quantize_with, Interpolation, QuantizeConfig, Quantized, TableScales,
};
