//! ONNX import: decodes an `.onnx` file (pure-Rust protobuf, no `protoc`) into a float [`Graph`].
//!
//! Supported ops (default domain):
//! - `Gemm` (either operand constant, any `transA`/`transB`), `MatMul` (by a constant:
//!   `Linear`; between activations, with numpy batch broadcasting, or by a constant with
//!   batch axes: `MatMul`; a constant by an activation: transposes around a `Linear`);
//! - `Conv` (1-D/2-D, any strides, pads, dilations, groups, `auto_pad`), `AveragePool`,
//!   `MaxPool`, `GlobalAveragePool`, `GlobalMaxPool`, `BatchNormalization` (folded into the
//!   preceding Conv/Linear when possible), `ConvTranspose` (as a Conv over the zero-stuffed
//!   input), `LpPool` (p = 1, 2), `InstanceNormalization`;
//! - `Add`, `Sub`, `Mul`, `Div` (constants on either side, or two activations with numpy
//!   broadcasting), `Neg`, `Pow` (a constant exponent, or a computed one on a positive base:
//!   `exp(y·ln x)`), n-ary `Max`, `Min`, `Sum`, `Mean`;
//! - activations: `Relu`, `LeakyRelu`, `PRelu`, `Clip`, `HardSigmoid`, `HardSwish`, `Shrink` (exact
//!   compositions of Relu and affine maps); table functions: every [`crate::UnaryFn`]
//!   (`Sigmoid`, `Tanh`, `Erf`, `Exp`, `Log`, `Sqrt`, `Reciprocal`, `Sin`, `Cos`, `Tan`,
//!   `Asin`, `Acos`, `Atan`, `Sinh`, `Cosh`, `Asinh`, `Acosh`, `Softplus`,
//!   `Softsign`, `Elu`, `Selu`, `Celu`, `Gelu`, `Mish`, `Sign`, `Floor`, `Ceil`, `Round`);
//!   `Abs`;
//! - reductions over any axes: `ReduceSum`, `ReduceMean`, `ReduceSumSquare`, `ReduceL1`,
//!   `ReduceL2`, `ReduceLogSumExp`, `ReduceMax`, `ReduceMin`, `ReduceProd`;
//! - `BitShift` and `Mod` by constants (exact on integers);
//! - comparisons `Greater`, `Less`, `GreaterOrEqual`, `LessOrEqual`, `Equal`, logic `Not`,
//!   `And`, `Or`, `Xor`, and `Where` (booleans are 0 and 1); `ArgMax`, `ArgMin`, `Hardmax`,
//!   `LogSoftmax` along any axis; `TopK` (ranks by pairwise comparison, ties by index);
//! - `Softmax` (any axis), `LayerNormalization`;
//! - `Gather`, `GatherElements`, `GatherND` (constant or computed indices: an embedding
//!   lookup is a one-hot sum), `ScatterElements` (and its old name `Scatter`), `ScatterND` (reduction none or add; constant or computed indices), `OneHot`;
//! - `Transpose`, `Slice`, `Split`, `Concat` (constants mixed with
//!   activations too), `Expand`, `Tile`, `Pad` (constant, reflect, edge, wrap), `Resize` and
//!   `Upsample` (nearest, linear), `Trilu`, `Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`,
//!   `Identity`, `Cast`, `Shape`, `Constant`, `ConstantOfShape`, `Range`, `EyeLike`; `Dropout`
//!   (inference: the identity);
//! - `RNN`, `GRU`, `LSTM` (any direction, both layouts, constant or computed initial states,
//!   LSTM peepholes), unrolled over the sequence into the ops above;
//! - `QuantizeLinear`, `DequantizeLinear` (QDQ models; quantized weights fold to floats);
//! - `ai.onnx.ml`: `TreeEnsembleClassifier` and `TreeEnsembleRegressor` (sklearn-onnx's tree
//!   models: comparisons, path indicators and a weighted sum of the leaves); `ZipMap` is
//!   recognised only to say how to export the classifier without it.
//!
//! This list is checked against the op registry (`registry.rs`), the one table of op types.
//!
//! Ops whose inputs are all constants are folded at import where cheap (elementwise math,
//! data movement, shapes). Anything else is an [`ImportError::UnsupportedOp`] naming the op and
//! the node; a supported op used in an unsupported way (a scatter with reduction `mul`, ...)
//! is an [`ImportError::UnsupportedUse`].

mod emit;
pub mod encode;
mod error;
mod external;
mod import;
mod input_kinds;
mod mask;
mod node;
mod ops;
pub mod proto;
mod registry;
mod shape;
mod state;
mod tensor;

use std::path::Path;

use prost::Message;

pub use error::ImportError;
pub use import::NO_INPUT_NAME;
pub use registry::supported_ops;

use crate::graph::Graph;

/// An ONNX model imported from its source.
#[derive(Debug)]
pub struct Imported {
    /// The float graph.
    pub graph: Graph,
    /// The SHA-256 naming the source: see [`source_sha256`].
    pub source_sha256: [u8; 32],
}

/// Reads and imports an ONNX model file, with the external data files beside it.
pub fn import_file(path: &Path) -> Result<Graph, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(import_source(&bytes, path.parent())?.graph)
}

/// Imports an ONNX model from its serialized bytes (a model whose tensors keep their data
/// in external files needs [`import_source`] with the directory they are in).
pub fn import_bytes(bytes: &[u8]) -> Result<Graph, ImportError> {
    Ok(import_source(bytes, None)?.graph)
}

/// Imports an ONNX model from its bytes; `base` is the directory of the model file, where
/// tensors with external data (PyTorch's `model.onnx.data`) find their files.
pub fn import_source(bytes: &[u8], base: Option<&Path>) -> Result<Imported, ImportError> {
    let mut model = proto::ModelProto::decode(bytes)?;
    let files = external::inline(&mut model, base)?;
    let graph = import::import_model(&model)?;
    Ok(Imported {
        graph,
        source_sha256: source_digest(bytes, &files)?,
    })
}

/// The SHA-256 that names a model's source: of the model file alone when it is
/// self-contained, else of the file and every external data file it reads, each with its
/// location and length, in location order. `base` is as for [`import_source`]. Bytes that
/// are not an ONNX model at all name no data file: their hash is their own SHA-256 (which
/// no compiled model records, since they do not import).
pub fn source_sha256(bytes: &[u8], base: Option<&Path>) -> Result<[u8; 32], ImportError> {
    let Ok(mut model) = proto::ModelProto::decode(bytes) else {
        return source_digest(bytes, &external::DataFiles::new());
    };
    let files = external::inline(&mut model, base)?;
    source_digest(bytes, &files)
}

/// See [`source_sha256`]; data files are streamed through the hash, never loaded whole.
fn source_digest(bytes: &[u8], files: &external::DataFiles) -> Result<[u8; 32], ImportError> {
    use sha2::{Digest, Sha256};
    if files.is_empty() {
        return Ok(Sha256::digest(bytes).into());
    }
    let mut h = Sha256::new();
    let part = |h: &mut Sha256, b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    part(&mut h, bytes);
    for (location, file) in files {
        part(&mut h, location.as_bytes());
        h.update(file.len.to_le_bytes());
        let bad = |reason: String| ImportError::ExternalData {
            tensor: String::new(),
            location: location.clone(),
            reason,
        };
        let mut f = std::fs::File::open(&file.path)
            .map_err(|e| bad(format!("cannot read {}: {e}", file.path.display())))?;
        let copied = std::io::copy(&mut f, &mut h)
            .map_err(|e| bad(format!("cannot read {}: {e}", file.path.display())))?;
        if copied != file.len {
            return Err(bad(format!(
                "{} changed while the model was read ({} bytes, then {copied})",
                file.path.display(),
                file.len
            )));
        }
    }
    Ok(h.finalize().into())
}
