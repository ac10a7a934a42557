//! The op families: one file per family, each function importing one ONNX op (or a few
//! sharing a lowering). Families import only the layers below them (`emit`, `state`,
//! `shape`, `tensor`, `node`, `error`); the few sibling uses stay inside one family
//! (`arith` → `integer` for integer division, `conv_transpose` → `conv`, `recurrent` →
//! `recurrent_cell`). The registry (`onnx/registry.rs`) maps op types to these functions.

pub(super) mod activation;
pub(super) mod argmax;
pub(super) mod arith;
pub(super) mod conv;
pub(super) mod conv_transpose;
pub(super) mod index;
pub(super) mod integer;
pub(super) mod linear;
pub(super) mod logic;
pub(super) mod matmul;
pub(super) mod norm;
pub(super) mod qdq;
pub(super) mod recurrent;
pub(super) mod recurrent_cell;
pub(super) mod reduce;
pub(super) mod reshape;
pub(super) mod resize;
pub(super) mod rewire;
pub(super) mod scatter;
pub(super) mod spatial;
pub(super) mod split;
pub(super) mod topk;
pub(super) mod trees;
