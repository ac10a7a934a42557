//! The ONNX importer's tests, through the crate's public API: one module per op family,
//! `util` their shared model builders.

mod activation;
mod attention;
mod conv;
mod elementwise;
mod errors;
mod errors_ops;
mod external;
mod import;
mod index;
mod integer;
mod interface;
mod logic;
mod masks;
mod recurrent;
mod reduce;
mod registry;
mod rewire;
mod shared;
mod spatial;
mod trees;
mod util;
