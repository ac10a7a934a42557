//! ONNX import: decodes an `.onnx` file (pure-Rust protobuf, no `protoc`) into a float [`Graph`].
//!
//! Supported ops: `Gemm`, `MatMul` (by a constant), `Add`, `Relu`, `Flatten`, `Reshape`,
//! `Identity`, `Squeeze`, `Unsqueeze` and `Constant`. Anything else is an
//! [`ImportError::UnsupportedOp`] naming the op and the node.

mod arith;
mod conv;
pub mod encode;
mod error;
mod import;
mod linear;
mod matmul;
mod node;
mod norm;
pub mod proto;
mod reshape;
mod rewire;
mod shape;
mod tensor;

#[cfg(test)]
mod tests_attention;
#[cfg(test)]
mod tests_conv;
#[cfg(test)]
mod tests_elementwise;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_errors_ops;
#[cfg(test)]
mod tests_import;
#[cfg(test)]
mod tests_rewire;
#[cfg(test)]
mod tests_shared;
#[cfg(test)]
mod tests_util;

use std::path::Path;

use prost::Message;

pub use error::ImportError;

use crate::graph::Graph;

/// Reads and imports an ONNX model file.
pub fn import_file(path: &Path) -> Result<Graph, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    import_bytes(&bytes)
}

/// Imports an ONNX model from its serialized bytes.
pub fn import_bytes(bytes: &[u8]) -> Result<Graph, ImportError> {
    let model = proto::ModelProto::decode(bytes)?;
    import::import_model(&model)
}
