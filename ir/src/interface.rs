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
