//! Errors reported by the ONNX importer. Every message names the node, tensor or field at fault.

use std::path::PathBuf;

/// Why an ONNX model could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read ONNX file `{}`: {source}", path.display())]
    Io {
        /// The file that was being read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a valid ONNX protobuf message.
    #[error("malformed ONNX protobuf: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The model holds no graph.
    #[error("ONNX model has no graph")]
    MissingGraph,
    /// The graph declares no output.
    #[error("ONNX graph has no output")]
    NoOutput,
    /// The graph input's type or shape is missing or unusable.
    #[error("graph input `{name}`: {reason}")]
    BadInput {
        /// Name of the graph input.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The graph output is not computed from the input.
    #[error("graph output `{name}`: {reason}")]
    BadOutput {
        /// Name of the graph output.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An operator this importer does not handle.
    #[error("unsupported ONNX op `{op_type}` at node `{node}`")]
    UnsupportedOp {
        /// ONNX op type (prefixed by its domain when not the default one).
        op_type: String,
        /// Node name.
        node: String,
    },
    /// A supported operator used in a way this importer does not handle.
    #[error("{op_type} node `{node}`: {reason}")]
    UnsupportedUse {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// What is not supported.
        reason: String,
    },
    /// A node reads a name that is no initializer, graph input or earlier node output.
    #[error("{op_type} node `{node}` reads `{name}`, which is not an initializer, the graph input or an earlier node's output")]
    MissingInitializer {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// The unknown tensor name.
        name: String,
    },
    /// A node input that must be a constant is computed from the graph input.
    #[error(
        "{op_type} node `{node}`: input `{name}` must be a constant (initializer or Constant node)"
    )]
    NotConstant {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// The non-constant tensor name.
        name: String,
    },
    /// An attribute is missing, has the wrong type or an unsupported value.
    #[error("{op_type} node `{node}`: attribute `{attr}` {reason}")]
    BadAttribute {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// Attribute name.
        attr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Operand shapes do not fit the op.
    #[error("{op_type} node `{node}`: shape mismatch: {detail}")]
    ShapeMismatch {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// The shapes involved.
        detail: String,
    },
    /// A node has too few inputs or outputs.
    #[error("{op_type} node `{node}`: {reason}")]
    BadNode {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor's external data file is missing, unreadable, too short or outside the
    /// model's directory.
    #[error("tensor `{tensor}`: external data `{location}`: {reason}")]
    ExternalData {
        /// Tensor name.
        tensor: String,
        /// The file it names.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A constant tensor's data is malformed or of an unsupported type.
    #[error("tensor `{tensor}`: {reason}")]
    BadTensor {
        /// Tensor name.
        tensor: String,
        /// What is wrong with it.
        reason: String,
    },
}
