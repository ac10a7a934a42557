//! Select: pure rewiring. Output element `i` is the source of element `index[i]` of the
//! concatenated operands; no rows, no witness.

use crate::error::LayoutFault;
use crate::lay::ctx::{NodeCtx, Src};

/// The sources of the selected elements.
pub(crate) fn lay(ctx: &NodeCtx<'_>, index: &[usize]) -> Result<Vec<Src>, LayoutFault> {
    let all: Vec<Src> = ctx
        .operands
        .iter()
        .flat_map(|o| o.src.iter().copied())
        .collect();
    index
        .iter()
        .map(|&i| {
            all.get(i).copied().ok_or(LayoutFault::Length {
                what: "selected operands",
                expected: i + 1,
                got: all.len(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use zkinfer_ir::{QGraph, QNode, QOp, QTensor};

    use crate::testing::*;

    fn node(name: &str, op: QOp, inputs: Vec<usize>, numel: usize, bound: u64) -> QNode {
        QNode {
            name: name.into(),
            op,
            inputs,
            out: QTensor {
                shape: vec![1, numel],
                scale: 4,
                bound,
            },
            structural: false,
        }
    }

    /// input (6) -> add a constant (6 cells, rows 0..6) -> select from (sum, input) -> `tail`.
    fn select_graph(index: Vec<usize>, tail: Option<QOp>) -> QGraph {
        let mut g = single_op(
            QOp::Add {
                coef_a: 1,
                coef_b: 0,
                constant: random_ints(6, 100, 11),
            },
            6,
            50,
            6,
            150,
            1,
        );
        let n = index.len();
        g.nodes
            .push(node("select", QOp::Select { index }, vec![1, 0], n, 150));
        if let Some(op) = tail {
            g.nodes.push(node("tail", op, vec![2], n, 1500));
        }
        g.output = g.nodes.len();
        g
    }

    #[test]
    fn selected_cells_and_inputs_feed_the_next_op() {
        // Reordered, duplicated, and drawn from both operands (6.. are the input's rows).
        let index = vec![5, 0, 0, 3, 8, 11, 6, 2];
        let tail = QOp::MulConst {
            factor: random_ints(index.len(), 10, 12),
        };
        let f = fixture_of(select_graph(index, Some(tail)), random_ints(6, 50, 13));
        assert_eq!(f.node_start(2), 6, "a Select takes no rows");
        f.mock(None).expect("honest witness");
    }

    #[test]
    fn selected_output_is_wired_to_its_source_cell() {
        let f = fixture_of(select_graph(vec![4, 1, 1, 0], None), random_ints(6, 50, 14));
        f.mock(None).expect("honest witness");
        // Output 0 is the sum in row 4 (pool column 2): claiming another value breaks
        // exactly that copy.
        let result = f.mock_with_output(None, &output_with(&f, 0, 1));
        assert_copy_failure(result, 2, 4);
    }
}
