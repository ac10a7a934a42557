//! Input files in EZKL's format: `{"input_data": [[...floats...], ...]}`.

use std::path::Path;

use serde::Deserialize;

use crate::error::ArtifactError;
use crate::interface::IoPart;

#[derive(Deserialize)]
struct InputFile {
    input_data: Vec<Vec<Scalar>>,
}

/// One input value: a number, or a JSON boolean (`false` is 0, `true` is 1), as EZKL's format
/// allows for boolean inputs.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Number(f64),
    Bool(bool),
}

impl Scalar {
    fn value(&self) -> f64 {
        match *self {
            Scalar::Number(v) => v,
            Scalar::Bool(b) => f64::from(u8::from(b)),
        }
    }
}

/// Reads every row of an EZKL-style input JSON. Each row is one flattened model input.
pub fn read_input_rows(path: &Path) -> Result<Vec<Vec<f64>>, ArtifactError> {
    let text = std::fs::read_to_string(path).map_err(|source| ArtifactError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_input_rows(&text, path)
}

/// Parses EZKL-style input JSON text; `path` is only used in error messages.
pub fn parse_input_rows(text: &str, path: &Path) -> Result<Vec<Vec<f64>>, ArtifactError> {
    let file: InputFile = serde_json::from_str(text).map_err(|e| ArtifactError::Json {
        path: path.to_path_buf(),
        detail: format!("expected {{\"input_data\": [[numbers or booleans...]]}}: {e}"),
    })?;
    Ok(file
        .input_data
        .iter()
        .map(|row| row.iter().map(Scalar::value).collect())
        .collect())
}

/// Groups the lists of an input file into samples (flat model inputs) for a model whose graph
/// inputs are `parts`: one list per graph input, in graph order, then the next sample's (EZKL's
/// layout). A model with one input takes one list per sample, unchanged. A model without
/// inputs takes `[]` (or empty lists) and reads its one-element anchor as 0.
pub fn group_samples(
    rows: Vec<Vec<f64>>,
    parts: &[IoPart],
    path: &Path,
) -> Result<Vec<Vec<f64>>, ArtifactError> {
    let k = parts.len();
    if k == 0 {
        // A model without inputs: `[]` or empty lists, one sample each, read as the anchor 0.
        if let Some(i) = rows.iter().position(|r| !r.is_empty()) {
            return Err(ArtifactError::Json {
                path: path.to_path_buf(),
                detail: format!(
                    "the model has no inputs, so `input_data` must be `[]` or hold empty lists; list {i} has {} values",
                    rows.get(i).map_or(0, Vec::len)
                ),
            });
        }
        return Ok(vec![vec![0.0]; rows.len().max(1)]);
    }
    if rows.is_empty() {
        return Err(ArtifactError::Json {
            path: path.to_path_buf(),
            detail: "`input_data` holds no rows".into(),
        });
    }
    if k == 1 {
        return Ok(rows);
    }
    let names = || {
        parts
            .iter()
            .map(|p| format!("`{}` ({} values)", p.name, p.numel()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if rows.len() % k != 0 {
        return Err(ArtifactError::Json {
            path: path.to_path_buf(),
            detail: format!(
                "`input_data` holds {} list(s); the model has {k} inputs, {}, so it needs one list per input for each sample",
                rows.len(),
                names()
            ),
        });
    }
    let mut samples = Vec::with_capacity(rows.len() / k);
    for (i, chunk) in rows.chunks(k).enumerate() {
        let mut flat = Vec::new();
        for (j, (list, part)) in chunk.iter().zip(parts).enumerate() {
            if list.len() != part.numel() {
                return Err(ArtifactError::Json {
                    path: path.to_path_buf(),
                    detail: format!(
                        "`input_data` list {} (sample {i}, input `{}`) has {} values, the input needs {}",
                        i * k + j,
                        part.name,
                        list.len(),
                        part.numel()
                    ),
                });
            }
            flat.extend_from_slice(list);
        }
        samples.push(flat);
    }
    Ok(samples)
}

/// Quantizes real values to `round(x * 2^scale)` (half away from zero).
pub fn quantize_values(values: &[f64], scale: u32) -> Vec<i64> {
    let factor = f64::from(scale).exp2();
    values.iter().map(|v| (v * factor).round() as i64).collect()
}

/// Real value of a quantized integer.
pub fn dequantize(q: i64, scale: u32) -> f64 {
    q as f64 / f64::from(scale).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_booleans_are_zero_and_one() {
        let rows = parse_input_rows(r#"{"input_data": [[false, true, 2.5]]}"#, Path::new("x"));
        assert_eq!(rows.ok(), Some(vec![vec![0.0, 1.0, 2.5]]));
    }

    #[test]
    fn parses_rows_and_rejects_bad_json() {
        let p = Path::new("in.json");
        let rows = parse_input_rows(r#"{"input_data": [[0.5, -1.0], [2, 3]]}"#, p).expect("valid");
        assert_eq!(rows, vec![vec![0.5, -1.0], vec![2.0, 3.0]]);
        let err = parse_input_rows(r#"{"input": [[1]]}"#, p).expect_err("wrong key");
        assert!(err.to_string().contains("input_data"), "{err}");
        assert!(parse_input_rows(r#"{"input_data": []}"#, p)
            .expect("empty is parsed")
            .is_empty());
        assert!(parse_input_rows(r#"{"input_data": [["a"]]}"#, p).is_err());
    }

    #[test]
    fn quantize_round_trip() {
        assert_eq!(quantize_values(&[0.5, -0.25, 1.0 / 3.0], 4), vec![8, -4, 5]);
        assert_eq!(dequantize(8, 4), 0.5);
    }

    #[test]
    fn lists_group_into_samples_per_input() {
        let p = Path::new("in.json");
        let part = |name: &str, n: usize| IoPart {
            name: name.into(),
            shape: vec![n],
        };
        let parts = [part("a", 2), part("b", 1)];
        let rows = vec![vec![1.0, 2.0], vec![3.0], vec![4.0, 5.0], vec![6.0]];
        let got = group_samples(rows, &parts, p).expect("two samples");
        assert_eq!(got, [vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
        let err = group_samples(vec![vec![1.0, 2.0]], &parts, p).expect_err("one list short");
        assert!(err.to_string().contains("2 inputs"), "{err}");
        let err = group_samples(vec![vec![1.0], vec![3.0]], &parts, p).expect_err("wrong size");
        assert!(err.to_string().contains("input `a`"), "{err}");
        let one = vec![vec![1.0], vec![2.0]];
        assert_eq!(
            group_samples(one.clone(), &parts[..1], p).expect("unchanged"),
            one
        );
        let err = group_samples(Vec::new(), &parts[..1], p).expect_err("no rows");
        assert!(err.to_string().contains("no rows"), "{err}");
    }

    #[test]
    fn a_model_without_inputs_reads_empty_lists_as_the_anchor() {
        let p = Path::new("in.json");
        assert_eq!(group_samples(Vec::new(), &[], p).expect("[]"), [vec![0.0]]);
        assert_eq!(
            group_samples(vec![Vec::new(), Vec::new()], &[], p).expect("[[], []]"),
            [vec![0.0], vec![0.0]]
        );
        let err = group_samples(vec![Vec::new(), vec![1.0]], &[], p).expect_err("a value");
        assert!(
            err.to_string().contains("no inputs") && err.to_string().contains("list 1"),
            "{err}"
        );
    }
}
