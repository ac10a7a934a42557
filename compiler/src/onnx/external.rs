//! Tensors whose data lives in a separate file (`data_location: EXTERNAL`), as PyTorch's
//! default exporter writes them (`model.onnx` plus `model.onnx.data`). Each tensor's byte
//! range is checked against the file's size, then only that range is read and moved into
//! `raw_data` before import, so the rest of the importer sees self-contained tensors.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::error::ImportError;
use super::proto::tensor_proto::DataLocation;
use super::proto::{GraphProto, ModelProto, TensorProto};

/// An external data file a model reads: where it is and how long it was when first seen.
#[derive(Debug, Clone)]
pub(crate) struct DataFile {
    /// The file (inside the model's directory).
    pub path: PathBuf,
    /// Its length in bytes.
    pub len: u64,
}

/// The external data files a model read, by the location its tensors name them.
pub(crate) type DataFiles = BTreeMap<String, DataFile>;

/// Bytes `offset..offset + n` of `path`, read alone (the file is not loaded whole).
fn read_range(path: &Path, offset: u64, n: usize) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut data = vec![0u8; n];
    f.read_exact(&mut data)?;
    Ok(data)
}

/// Moves every external tensor's bytes into its `raw_data`. Files are looked up relative to
/// `base` (the model file's directory); with no base (a model given as bytes) an external
/// tensor is an error saying to import the file instead. Returns the files read.
pub(crate) fn inline(
    model: &mut ModelProto,
    base: Option<&Path>,
) -> Result<DataFiles, ImportError> {
    let mut files = DataFiles::new();
    if let Some(graph) = model.graph.as_mut() {
        inline_graph(graph, base, &mut files)?;
    }
    Ok(files)
}

fn inline_graph(
    graph: &mut GraphProto,
    base: Option<&Path>,
    files: &mut DataFiles,
) -> Result<(), ImportError> {
    for t in &mut graph.initializer {
        inline_tensor(t, base, files)?;
    }
    for node in &mut graph.node {
        for attr in &mut node.attribute {
            if let Some(t) = attr.t.as_mut() {
                inline_tensor(t, base, files)?;
            }
            for t in &mut attr.tensors {
                inline_tensor(t, base, files)?;
            }
        }
    }
    Ok(())
}

fn inline_tensor(
    t: &mut TensorProto,
    base: Option<&Path>,
    files: &mut DataFiles,
) -> Result<(), ImportError> {
    if t.data_location != DataLocation::External as i32 {
        return Ok(());
    }
    let field = |key: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.clone())
    };
    let location = field("location").unwrap_or_default();
    let bad = |reason: String| ImportError::ExternalData {
        tensor: t.name.clone(),
        location: location.clone(),
        reason,
    };
    let number = |key: &str| -> Result<Option<usize>, ImportError> {
        field(key)
            .map(|v| {
                v.parse::<usize>()
                    .map_err(|_| bad(format!("`{key}` is `{v}`, not a byte count")))
            })
            .transpose()
    };
    let offset = number("offset")?.unwrap_or(0);
    let length = number("length")?;
    let Some(base) = base else {
        return Err(bad(
            "the data is in a file beside the model: import the model from its path, not its bytes"
                .into(),
        ));
    };
    let path = data_path(base, &location).map_err(bad)?;
    if !files.contains_key(&location) {
        let len = std::fs::metadata(&path)
            .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?
            .len();
        files.insert(
            location.clone(),
            DataFile {
                path: path.clone(),
                len,
            },
        );
    }
    let file_len = files.get(&location).map_or(0, |f| f.len);
    let file_len_usize = usize::try_from(file_len).unwrap_or(usize::MAX);
    // The range is checked against the file's size before a byte of it is read.
    let end = match length {
        Some(n) => offset.checked_add(n),
        None => Some(file_len_usize),
    };
    let n = end
        .filter(|&end| end <= file_len_usize && offset <= end)
        .map(|end| end - offset)
        .ok_or_else(|| {
            bad(format!(
                "bytes {offset}..{} are past the end of the {file_len}-byte file",
                length.map_or("end".to_string(), |n| offset.saturating_add(n).to_string()),
            ))
        })?;
    let data = read_range(&path, offset as u64, n)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    t.raw_data = data;
    t.data_location = DataLocation::Default as i32;
    t.external_data.clear();
    Ok(())
}

/// `location` under `base`: a relative path that stays inside it (the ONNX rule), also after
/// following symbolic links, and names a regular file, so a model cannot make the importer
/// read `/etc/passwd`, `../secret` or block on a pipe.
fn data_path(base: &Path, location: &str) -> Result<PathBuf, String> {
    let rel = Path::new(location);
    if location.is_empty() {
        return Err("no `location` names the data file".into());
    }
    let outside = || {
        "the location must be a relative path inside the model's directory (no `..`, no root, no link out of it)"
            .to_string()
    };
    if !rel
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside());
    }
    let path = base.join(rel);
    let real =
        std::fs::canonicalize(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let real_base = std::fs::canonicalize(base)
        .map_err(|e| format!("cannot read the directory {}: {e}", base.display()))?;
    if !real.starts_with(&real_base) {
        return Err(outside());
    }
    if !real.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    Ok(real)
}
