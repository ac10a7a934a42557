//! Reductions as rows: the layout moving the reduced axes last (`[outer, n]`) and back.

use crate::graph::{Op, TensorId};
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::shape::{inverse_perm, permute, transpose_index};
use crate::onnx::state::Importer;

/// How the reduced axes and output shape are laid out for one node.
pub(crate) struct ReducePlan {
    /// The input shape.
    pub(crate) dims: Vec<usize>,
    /// Kept axes then reduced axes.
    pub(crate) perm: Vec<usize>,
    /// Elements per output value.
    pub(crate) n: usize,
    /// Output values.
    pub(crate) outer: usize,
    /// The output shape (`keepdims` applied).
    pub(crate) out_shape: Vec<usize>,
}

impl ReducePlan {
    /// The layout reducing `axes` (any order, repeats ignored) of `dims`.
    pub(crate) fn new(dims: Vec<usize>, mut axes: Vec<usize>, keepdims: bool) -> ReducePlan {
        axes.sort_unstable();
        axes.dedup();
        let rank = dims.len();
        let kept: Vec<usize> = (0..rank).filter(|k| !axes.contains(k)).collect();
        let perm: Vec<usize> = kept.iter().chain(&axes).copied().collect();
        let size = |ax: &[usize]| {
            ax.iter()
                .map(|&a| dims.get(a).copied().unwrap_or(1))
                .product()
        };
        let (n, outer) = (size(&axes), size(&kept));
        let out_shape = if keepdims {
            (0..rank)
                .map(|k| {
                    if axes.contains(&k) {
                        1
                    } else {
                        dims.get(k).copied().unwrap_or(1)
                    }
                })
                .collect()
        } else {
            kept.iter()
                .map(|&k| dims.get(k).copied().unwrap_or(1))
                .collect()
        };
        ReducePlan {
            dims,
            perm,
            n,
            outer,
            out_shape,
        }
    }

    /// Positions of the input in `[outer, n]` row order (reduced axes last).
    pub(crate) fn row_order(&self) -> Option<Vec<usize>> {
        transpose_index(&self.dims, &self.perm)
    }

    /// The inverse of [`ReducePlan::to_rows`]: `[outer, n]` rows back to shape `dims`, named
    /// `name`.
    pub(crate) fn rows_back<'g>(
        &self,
        imp: &mut Importer<'g>,
        ctx: &NodeCtx<'g>,
        rows: TensorId,
        name: String,
    ) -> Result<TensorId, ImportError> {
        if self.perm.iter().enumerate().all(|(i, &a)| i == a) {
            return imp.push(ctx, name, Op::Reshape, vec![rows], self.dims.clone());
        }
        let moved = permute(&self.dims, &self.perm);
        let index = transpose_index(&moved, &inverse_perm(&self.perm))
            .ok_or_else(|| ctx.shape_err(format!("cannot reorder the axes of {:?}", self.dims)))?;
        imp.push(
            ctx,
            name,
            Op::Select { index },
            vec![rows],
            self.dims.clone(),
        )
    }

    /// Views `t` (of shape `dims`) as `[outer, n]` rows, the reduced axes last: one `Select`
    /// when they are not last already, then a `Reshape`.
    pub(crate) fn to_rows<'g>(
        &self,
        imp: &mut Importer<'g>,
        ctx: &NodeCtx<'g>,
        t: TensorId,
    ) -> Result<TensorId, ImportError> {
        let sub = |l: &str| format!("{}/{l}", ctx.name);
        let rows = vec![self.outer, self.n];
        if self.perm.iter().enumerate().all(|(i, &a)| i == a) {
            return imp.push(ctx, sub("rows"), Op::Reshape, vec![t], rows);
        }
        let index = self
            .row_order()
            .ok_or_else(|| ctx.shape_err(format!("cannot reorder the axes of {:?}", self.dims)))?;
        let shape = permute(&self.dims, &self.perm);
        let s = imp.push(ctx, sub("to_last"), Op::Select { index }, vec![t], shape)?;
        imp.push(ctx, sub("rows"), Op::Reshape, vec![s], rows)
    }
}
