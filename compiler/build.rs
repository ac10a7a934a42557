//! Generates the ONNX protobuf types from `proto/onnx_subset.proto` without a `protoc` binary:
//! `protox` parses the schema in pure Rust, `prost-build` writes `$OUT_DIR/onnx.rs`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/onnx_subset.proto";
    println!("cargo:rerun-if-changed={proto}");
    println!("cargo:rerun-if-changed=build.rs");
    let fds = protox::compile([proto], ["proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
