//! Per-op layout, one file per op: each lays one node out from its [`NodeCtx`] and returns
//! where its output elements live. [`crate::layout::lay_out`] dispatches to them.
//!
//! [`NodeCtx`]: crate::layout::NodeCtx

pub(crate) mod arith;
pub(crate) mod conv;
pub(crate) mod div;
pub(crate) mod lookup;
pub(crate) mod matmul;
pub(crate) mod max;
pub(crate) mod node_io;
pub(crate) mod select;
