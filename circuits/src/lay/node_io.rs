//! What a node's layout reads: the sources and known values of its operands and output,
//! and the corruption (tests only) aimed at it.

use halo2_proofs::plonk::Error;
use zkinfer_models::{QNode, Trace};

use crate::corrupt::{Corruption, CorruptionKind};
use crate::layout::{known, Src, Walk};

/// Operands and output of one node.
#[derive(Debug)]
pub(crate) struct NodeIo<'t> {
    /// Index of the node in `QGraph::nodes` (its output is tensor `index + 1`).
    pub(crate) index: usize,
    /// Where each operand's elements live, in operand order.
    pub(crate) srcs: Vec<&'t [Src]>,
    /// Each operand's values, when the witness is known.
    pub(crate) vals: Vec<Option<&'t [i64]>>,
    /// The output's values, when the witness is known.
    pub(crate) out: Option<&'t [i64]>,
    corruption: Option<Corruption>,
}

impl<'t> NodeIo<'t> {
    /// Gathers the operands of node `index` from the tensors laid out so far.
    pub(crate) fn new(
        index: usize,
        node: &QNode,
        tensors: &'t [Vec<Src>],
        trace: Option<&'t Trace>,
        corruption: Option<&Corruption>,
    ) -> Result<Self, Error> {
        let mut srcs = Vec::with_capacity(node.inputs.len());
        let mut vals = Vec::with_capacity(node.inputs.len());
        for &id in &node.inputs {
            let s = tensors.get(id).ok_or(Error::Synthesis)?;
            let v = known(trace, id)?;
            if v.is_some_and(|v| v.len() != s.len()) {
                return Err(Error::Synthesis);
            }
            srcs.push(s.as_slice());
            vals.push(v);
        }
        let out = known(trace, index + 1)?;
        if out.is_some_and(|o| o.len() != node.out.numel()) {
            return Err(Error::Synthesis);
        }
        Ok(NodeIo {
            index,
            srcs,
            vals,
            out,
            corruption: corruption.copied(),
        })
    }

    /// Sources and values of operand `k`.
    pub(crate) fn operand(&self, k: usize) -> Result<(&'t [Src], Option<&'t [i64]>), Error> {
        let s = *self.srcs.get(k).ok_or(Error::Synthesis)?;
        let v = *self.vals.get(k).ok_or(Error::Synthesis)?;
        Ok((s, v))
    }

    /// The corruption aimed at output element `element`, if any.
    pub(crate) fn corruption(&self, element: usize) -> Option<CorruptionKind> {
        Corruption::at(self.corruption.as_ref(), self.index, element)
    }

    /// Fails unless the node used exactly `expected` rows since `start` (the planner's count).
    pub(crate) fn check_rows(
        walk: &Walk<'_, '_>,
        start: usize,
        expected: usize,
    ) -> Result<(), Error> {
        if walk.row.checked_sub(start) == Some(expected) {
            Ok(())
        } else {
            Err(Error::Synthesis)
        }
    }
}

/// Element `i` of `vals`, when known.
pub(crate) fn at(vals: Option<&[i64]>, i: usize) -> Result<Option<i64>, Error> {
    match vals {
        None => Ok(None),
        Some(v) => v.get(i).copied().map(Some).ok_or(Error::Synthesis),
    }
}
