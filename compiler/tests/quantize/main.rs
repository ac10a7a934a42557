//! The quantizer's tests, through the crate's public API: accuracy and exactness of the
//! lowerings, table sharing and interpolation.

mod bounds;
mod logic;
mod mlp;
mod ops;
mod tables;
