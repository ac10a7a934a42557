//! A model's graph inputs and outputs. The circuit sees one flat public input and one flat
//! public output; several graph inputs (outputs) are laid end to end in them, in graph order.

use serde::{Deserialize, Serialize};

/// One graph input or output: its ONNX name and shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoPart {
    /// ONNX name.
    pub name: String,
    /// Shape (symbolic dimensions set to 1).
    pub shape: Vec<usize>,
}

impl IoPart {
    /// Number of values.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The graph inputs of a model, in the order they are laid out in its one input tensor: none
/// when it has no input (`no_input`), else `parts`, or, for a single input, one part named
/// `name` of shape `shape`. Shared by the float and the quantized graph, which keep the same
/// interface fields side by side (a shared flattened struct would make serde buffer a whole
/// model file through an untyped tree when reading it).
pub fn graph_inputs(no_input: bool, parts: &[IoPart], name: &str, shape: &[usize]) -> Vec<IoPart> {
    if no_input {
        Vec::new()
    } else if parts.is_empty() {
        vec![IoPart {
            name: name.to_string(),
            shape: shape.to_vec(),
        }]
    } else {
        parts.to_vec()
    }
}

/// What numbers a graph input holds: its ONNX element type, as far as the circuit cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberKind {
    /// Real numbers (float types), quantized to the input's scale.
    #[default]
    Real,
    /// Integers (INT8..INT64, UINT8..UINT64): the circuit proves each value integral.
    Integer,
    /// Booleans: the circuit proves each value is 0 or 1.
    Boolean,
}

impl NumberKind {
    /// Whether this is [`NumberKind::Real`].
    pub fn is_real(&self) -> bool {
        *self == NumberKind::Real
    }

    /// Whether `v` is a value of this kind.
    pub fn admits(self, v: f64) -> bool {
        match self {
            NumberKind::Real => v.is_finite(),
            NumberKind::Integer => v.is_finite() && v.fract() == 0.0,
            NumberKind::Boolean => v == 0.0 || v == 1.0,
        }
    }
}

impl std::fmt::Display for NumberKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NumberKind::Real => "real",
            NumberKind::Integer => "integer",
            NumberKind::Boolean => "boolean",
        })
    }
}

/// The first value of `flat` (laid out as `parts`) that is not of its part's kind:
/// `(part, index within the part, value, kind)`. `kinds` has one entry per part (empty: all
/// real).
pub fn first_misfit<'a>(
    flat: &[f64],
    parts: &'a [IoPart],
    kinds: &[NumberKind],
) -> Option<(&'a IoPart, usize, f64, NumberKind)> {
    let mut at = 0;
    for (part, kind) in parts.iter().zip(kinds) {
        let values = flat.get(at..at + part.numel())?;
        if let Some(i) = values.iter().position(|&v| !kind.admits(v)) {
            return Some((part, i, values.get(i).copied().unwrap_or_default(), *kind));
        }
        at += part.numel();
    }
    None
}

/// Splits `flat` into one slice per part (`None` when the sizes do not add up).
pub fn split<'a, T>(flat: &'a [T], parts: &[IoPart]) -> Option<Vec<&'a [T]>> {
    let mut rest = flat;
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        let (head, tail) = rest.split_at_checked(p.numel())?;
        out.push(head);
        rest = tail;
    }
    rest.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_checks_the_total() {
        let parts = [
            IoPart {
                name: "a".into(),
                shape: vec![2],
            },
            IoPart {
                name: "b".into(),
                shape: vec![1, 3],
            },
        ];
        let flat = [1, 2, 3, 4, 5];
        assert_eq!(split(&flat, &parts), Some(vec![&flat[..2], &flat[2..]]));
        assert_eq!(split(&flat[..4], &parts), None);
        assert_eq!(split(&[0; 6], &parts), None);
    }
}
