pub(crate) mod arith;
pub(crate) mod conv;
pub(crate) mod matmul;
pub(crate) mod node_io;
pub(crate) mod select;
