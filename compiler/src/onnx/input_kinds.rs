//! Integer and boolean graph inputs: the kind each input holds, and the checks that make the
//! circuit prove it. Every input is quantized at the activation scale, so an INT64 index or a
//! BOOL condition would otherwise admit fractions (1.5 as an index blends two rows of a
//! one-hot selection; 0.5 as a condition blends the branches of a `Where`).
//!
//! For an integer input `x`: `x - floor(x)` (exact: a rescale) is checked to be 0. For a
//! boolean input: the same, and `x` itself is checked to lie in `[0, 1]`.

use zkinfer_ir::NumberKind;

use super::state::Importer;
use crate::graph::{Op, TensorId, UnaryFn};

/// The values an ONNX integer element type holds, when narrower than any input bound can be
/// (the 64-bit signed type and floats: none).
pub(crate) fn type_range(elem_type: Option<i32>) -> Option<(f64, f64)> {
    Some(match elem_type? {
        2 => (0.0, 255.0),                  // UINT8
        3 => (-128.0, 127.0),               // INT8
        4 => (0.0, 65535.0),                // UINT16
        5 => (-32768.0, 32767.0),           // INT16
        6 => (-2147483648.0, 2147483647.0), // INT32
        12 => (0.0, 4294967295.0),          // UINT32
        13 => (0.0, f64::MAX),              // UINT64
        _ => return None,
    })
}

/// The kind of an ONNX element type.
pub(crate) fn kind_of(elem_type: Option<i32>) -> NumberKind {
    match elem_type {
        Some(9) => NumberKind::Boolean,
        Some(t) if super::state::is_integer_type(t) => NumberKind::Integer,
        _ => NumberKind::Real,
    }
}

/// Emits the checks of input `name` (tensor `t`, `shape`) of ONNX element type `elem_type`:
/// nothing for a real input. These nodes have no reader: they are there for the proof
/// (a pass that drops unread nodes must keep every `Check`).
pub(crate) fn check_input(
    imp: &mut Importer<'_>,
    name: &str,
    t: TensorId,
    shape: &[usize],
    elem_type: Option<i32>,
) {
    let kind = kind_of(elem_type);
    if kind.is_real() {
        return;
    }
    if let Some((lo, hi)) = type_range(elem_type) {
        imp.push_graph_node(
            format!("{name}/type_range"),
            Op::Check { lo, hi },
            vec![t],
            shape.to_vec(),
        );
    }
    let floor = imp.push_graph_node(
        format!("{name}/integer/floor"),
        Op::Unary {
            func: UnaryFn::Floor,
        },
        vec![t],
        shape.to_vec(),
    );
    let fraction = imp.push_graph_node(
        format!("{name}/integer/fraction"),
        Op::Sub,
        vec![t, floor],
        shape.to_vec(),
    );
    imp.push_graph_node(
        format!("{name}/integer"),
        Op::Check { lo: 0.0, hi: 0.0 },
        vec![fraction],
        shape.to_vec(),
    );
    if kind == NumberKind::Boolean {
        imp.push_graph_node(
            format!("{name}/boolean"),
            Op::Check { lo: 0.0, hi: 1.0 },
            vec![t],
            shape.to_vec(),
        );
    }
}
