//! Exact elementwise ops that keep their operand's scale. Each variant says here everything
//! about it that is not a kernel or a circuit: its ONNX name, its float semantics (for
//! calibration and accuracy), its exact integer semantics and the bound of its output.
//! Import, quantization, validation and the reference semantics read these methods, so a
//! new op of this family is one variant here, one runtime kernel and one circuit layout.

use serde::{Deserialize, Serialize};

/// An exact elementwise op `y[i] = f(x[i])` at the operand's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ElementOp {
    /// `|x|`.
    Abs,
}

impl ElementOp {
    /// Every op of the family.
    pub const ALL: &'static [ElementOp] = &[ElementOp::Abs];

    /// The op's name (ONNX op type).
    pub fn name(self) -> &'static str {
        match self {
            ElementOp::Abs => "Abs",
        }
    }

    /// The op for ONNX op type `op_type`, if it belongs to this family.
    pub fn from_onnx(op_type: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.name() == op_type)
    }

    /// Float semantics (what onnxruntime computes).
    pub fn float(self, x: f64) -> f64 {
        match self {
            ElementOp::Abs => x.abs(),
        }
    }

    /// Exact integer semantics at the operand's scale; `None` on overflow.
    pub fn int(self, x: i64) -> Option<i64> {
        match self {
            ElementOp::Abs => x.checked_abs(),
        }
    }

    /// Bound of the output for an operand bounded by `bound` (`|x| <= bound`).
    pub fn bound(self, bound: u128) -> u128 {
        match self {
            ElementOp::Abs => bound,
        }
    }
}
