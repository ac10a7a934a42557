//! Protobuf types for the ONNX subset in `proto/onnx_subset.proto`, generated at build time.
#![allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    missing_debug_implementations
)]

include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
