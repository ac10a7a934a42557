//! zkinfer compiler: ONNX import, the float graph, quantization, calibration and accuracy.
//! It turns a trained model into the quantized IR of `zkinfer-ir`; only the CLI, tests and
//! benches depend on it (it alone builds the protobuf stack).
//!
//! ```
//! use zkinfer_compiler::onnx::{encode, import_bytes};
//! use zkinfer_compiler::{quantize, QuantizeConfig};
//!
//! // A one-layer ONNX model y = relu(W x + b), calibrated on two samples.
//! let layer = encode::LayerSpec { weight: vec![0.5, -1.0, 0.25, 2.0], bias: vec![0.1, 0.0], relu: true };
//! let float = import_bytes(&encode::mlp_model(2, &[layer]))?;
//! let calibration = vec![vec![1.0, -0.5], vec![-0.25, 0.75]];
//! let q = quantize(&float, &calibration, QuantizeConfig::default(), "example")?;
//! q.graph.validate()?;
//! assert_eq!(q.graph.input.shape, vec![1, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
