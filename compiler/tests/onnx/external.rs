//! Tensors with external data: read from files beside the model, bounded to its directory,
//! and covered by the source hash.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use prost::Message;
use sha2::Digest;

use zkinfer_compiler::onnx::encode::{mlp_model, LayerSpec};
use zkinfer_compiler::onnx::proto::tensor_proto::DataLocation;
use zkinfer_compiler::onnx::proto::{ModelProto, StringStringEntryProto};
use zkinfer_compiler::onnx::{import_bytes, import_source, source_sha256, ImportError};

/// The bundled-style MLP: 3 inputs, a hidden layer of 2 with ReLU, 2 outputs.
fn self_contained() -> Vec<u8> {
    mlp_model(
        3,
        &[
            LayerSpec {
                weight: vec![0.5, -0.25, 1.0, 0.75, -1.5, 0.125],
                bias: vec![0.1, -0.2],
                relu: true,
            },
            LayerSpec {
                weight: vec![1.0, 2.0, -3.0, 0.5],
                bias: vec![0.0, 1.0],
                relu: false,
            },
        ],
    )
}

fn entry(key: &str, value: &str) -> StringStringEntryProto {
    StringStringEntryProto {
        key: key.into(),
        value: value.into(),
    }
}

/// The same model with every initializer's bytes moved into `dir/location`, one after the
/// other (offset and length recorded), behind `pad` leading bytes.
fn externalized(dir: &Path, location: &str, pad: usize) -> Vec<u8> {
    let mut m = ModelProto::decode(self_contained().as_slice()).unwrap();
    let mut data = vec![0xAB; pad];
    for t in &mut m.graph.as_mut().unwrap().initializer {
        let offset = data.len();
        data.extend_from_slice(&t.raw_data);
        t.external_data = vec![
            entry("location", location),
            entry("offset", &offset.to_string()),
            entry("length", &t.raw_data.len().to_string()),
        ];
        t.raw_data.clear();
        t.data_location = DataLocation::External as i32;
    }
    std::fs::write(dir.join(location), data).unwrap();
    m.encode_to_vec()
}

fn external_error(e: ImportError) -> (String, String, String) {
    match e {
        ImportError::ExternalData {
            tensor,
            location,
            reason,
        } => (tensor, location, reason),
        other => panic!("expected an external data error, got {other}"),
    }
}

/// A model file whose initializers have `external_data` entries `entries` (the first
/// initializer only) and no data of their own.
fn with_entries(entries: Vec<StringStringEntryProto>) -> Vec<u8> {
    let mut m = ModelProto::decode(self_contained().as_slice()).unwrap();
    let t = &mut m.graph.as_mut().unwrap().initializer[0];
    t.raw_data.clear();
    t.external_data = entries;
    t.data_location = DataLocation::External as i32;
    m.encode_to_vec()
}

#[test]
fn external_data_imports_the_same_graph_as_inline_data() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = externalized(dir.path(), "model.onnx.data", 7);
    let inline = import_bytes(&self_contained()).unwrap();
    let imported = import_source(&bytes, Some(dir.path())).unwrap();
    assert_eq!(imported.graph, inline);
    // A `./` prefix is inside the directory too.
    let bytes = externalized(dir.path(), "./w.bin", 0);
    assert_eq!(
        import_source(&bytes, Some(dir.path())).unwrap().graph,
        inline
    );
}

#[test]
fn the_source_hash_covers_the_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let plain = self_contained();
    let sha = |b: &[u8]| -> [u8; 32] { sha2::Sha256::digest(b).into() };
    // A self-contained model's source hash is its file's SHA-256, as before; so is that of
    // bytes that are no model at all.
    assert_eq!(source_sha256(&plain, None).unwrap(), sha(&plain));
    let mut not_onnx = plain.clone();
    not_onnx.push(0);
    assert_eq!(source_sha256(&not_onnx, None).unwrap(), sha(&not_onnx));
    assert_eq!(
        import_source(&plain, None).unwrap().source_sha256,
        sha(&plain)
    );

    let bytes = externalized(dir.path(), "model.onnx.data", 0);
    let h = source_sha256(&bytes, Some(dir.path())).unwrap();
    assert_eq!(
        import_source(&bytes, Some(dir.path()))
            .unwrap()
            .source_sha256,
        h
    );
    assert_ne!(h, sha(&bytes), "the data file is part of the source");
    // One changed weight byte in the data file changes the hash.
    let path = dir.path().join("model.onnx.data");
    let mut data = std::fs::read(&path).unwrap();
    data[3] ^= 1;
    std::fs::write(&path, &data).unwrap();
    assert_ne!(source_sha256(&bytes, Some(dir.path())).unwrap(), h);
}

#[test]
fn bytes_without_a_directory_say_to_import_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = externalized(dir.path(), "model.onnx.data", 0);
    let (tensor, location, reason) = external_error(import_bytes(&bytes).unwrap_err());
    assert_eq!(
        (tensor.as_str(), location.as_str()),
        ("fc1.weight", "model.onnx.data")
    );
    assert!(
        reason.contains("import the model from its path"),
        "{reason}"
    );
}

#[test]
fn a_missing_data_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = externalized(dir.path(), "model.onnx.data", 0);
    std::fs::remove_file(dir.path().join("model.onnx.data")).unwrap();
    let e = import_source(&bytes, Some(dir.path())).unwrap_err();
    let text = e.to_string();
    let (_, location, reason) = external_error(e);
    assert_eq!(location, "model.onnx.data");
    assert!(reason.contains("cannot read"), "{reason}");
    assert!(text.contains("model.onnx.data"), "{text}");
}

#[test]
fn locations_outside_the_model_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("model");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(dir.path().join("secret.bin"), [0u8; 64]).unwrap();
    for location in ["../secret.bin", "/etc/passwd", "a/../../secret.bin", ""] {
        let bytes = with_entries(vec![entry("location", location)]);
        let (_, _, reason) = external_error(import_source(&bytes, Some(&inner)).unwrap_err());
        assert!(
            reason.contains("relative path inside") || reason.contains("no `location`"),
            "{location}: {reason}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_link_out_of_the_directory_or_a_pipe_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("model");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(dir.path().join("secret.bin"), [0u8; 64]).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.bin"), inner.join("w.bin")).unwrap();
    let bytes = with_entries(vec![entry("location", "w.bin")]);
    let (_, _, reason) = external_error(import_source(&bytes, Some(&inner)).unwrap_err());
    assert!(reason.contains("no link out of it"), "{reason}");
    // A link that stays inside is fine: the data is read through it.
    std::fs::write(inner.join("real.bin"), [0u8; 64]).unwrap();
    std::fs::remove_file(inner.join("w.bin")).unwrap();
    std::os::unix::fs::symlink(inner.join("real.bin"), inner.join("w.bin")).unwrap();
    let e = import_source(&bytes, Some(&inner)).unwrap_err();
    assert!(
        matches!(e, ImportError::BadTensor { .. }),
        "read, then wrong size: {e}"
    );
    // A directory (or a pipe, which would block a read) is not a data file.
    std::fs::create_dir_all(inner.join("d")).unwrap();
    let bytes = with_entries(vec![entry("location", "d")]);
    let (_, _, reason) = external_error(import_source(&bytes, Some(&inner)).unwrap_err());
    assert!(reason.contains("not a regular file"), "{reason}");
}

#[test]
fn offsets_and_lengths_past_the_file_or_not_numbers_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.bin"), [0u8; 16]).unwrap();
    for (offset, length, expect) in [
        ("8", "16", "past the end of the 16-byte file"),
        ("20", "", "past the end"),
        ("-1", "4", "not a byte count"),
        ("0", "lots", "not a byte count"),
        ("18446744073709551615", "2", "past the end"),
    ] {
        let mut entries = vec![entry("location", "w.bin"), entry("offset", offset)];
        if !length.is_empty() {
            entries.push(entry("length", length));
        }
        let bytes = with_entries(entries);
        let (_, _, reason) = external_error(import_source(&bytes, Some(dir.path())).unwrap_err());
        assert!(reason.contains(expect), "{offset}/{length}: {reason}");
    }
    // In range, but the wrong size for the tensor: the tensor decoder says so.
    let bytes = with_entries(vec![
        entry("location", "w.bin"),
        entry("offset", "0"),
        entry("length", "8"),
    ]);
    let e = import_source(&bytes, Some(dir.path())).unwrap_err();
    assert!(matches!(e, ImportError::BadTensor { .. }), "{e}");
}
