//! The quantized graph under construction, evaluated on the calibration rows as it grows.
//!
//! Every pushed node is run at once on every calibration row, so later lowering steps
//! (table domains, observed ranges) see the exact integers the circuit will see.

use std::collections::BTreeMap;

use crate::error::{EvalError, QuantizeError};
use crate::graph::TensorId;
use crate::qgraph::{QNode, QOp, QTensor, Table};
use crate::semantics::{apply, check_bound, rescale, rescale_bound, OpError};

use super::{checked_bound, QuantizeConfig};

/// Nodes, tensors, tables and the calibration values of every tensor.
#[derive(Debug)]
pub(crate) struct Builder {
    /// Nodes pushed so far.
    pub nodes: Vec<QNode>,
    /// Tensor descriptions (index = tensor id).
    pub tensors: Vec<QTensor>,
    /// Calibration values: `vals[tensor][row]`.
    pub vals: Vec<Vec<Vec<i64>>>,
    /// Lookup tables.
    pub tables: Vec<Table>,
    /// Settings.
    pub config: QuantizeConfig,
    /// Per-lookup table scales (by lookup node name).
    pub table_scales: super::TableScales,
    /// Per-lookup interpolation step bits (by lookup node name; absent: a plain table).
    pub interpolation: super::Interpolation,
    /// Table domains to widen to, by function and scales, so that nodes share one table.
    pub shared_domains: BTreeMap<DomainKey, (i64, i64)>,
    /// The domain each table lookup asked for, by function and scales, in node order.
    pub domains: BTreeMap<DomainKey, Vec<(i64, i64)>>,
    /// Bits a calibrated bound must save on a `Rescale`'s static bound to replace it (see
    /// [`super::CALIBRATED_GAINS`]).
    pub calibrated_gain: u32,
    /// Whether the float node being lowered carries the model's trained weights.
    pub node_trained: bool,
    /// Whether the nodes pushed now carry those weights (see [`Builder::with_weights`]);
    /// every other node with parameters is structural.
    trained_scope: bool,
}

/// A function table's identity: the function (parameters included), argument scale and
/// value scale.
pub(crate) type DomainKey = (String, u32, u32);

impl Builder {
    /// A builder whose tensor 0 is `input` with the given calibration rows.
    pub fn new(input: QTensor, rows: Vec<Vec<i64>>, config: QuantizeConfig) -> Self {
        Builder {
            nodes: Vec::new(),
            tensors: vec![input],
            vals: vec![rows],
            tables: Vec::new(),
            config,
            table_scales: super::TableScales::new(),
            interpolation: super::Interpolation::new(),
            shared_domains: BTreeMap::new(),
            domains: BTreeMap::new(),
            calibrated_gain: super::CALIBRATED_GAINS[0],
            node_trained: false,
            trained_scope: false,
        }
    }

    /// Runs `f` with the parameter-carrying nodes it pushes marked as the model's trained
    /// weights when the float node being lowered carries them (advice under private or
    /// hashed parameter visibility); outside it every node's parameters are structural,
    /// pinned in the key.
    pub fn with_weights<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let was = std::mem::replace(&mut self.trained_scope, self.node_trained);
        let out = f(self);
        self.trained_scope = was;
        out
    }

    /// The domains worth sharing: for each function and scales asked for by more than one
    /// distinct domain, their hull, when it has no more rows than the distinct domains
    /// together (so a shared table is never larger than the separate ones).
    pub fn domains_to_share(&self) -> BTreeMap<DomainKey, (i64, i64)> {
        let mut out = BTreeMap::new();
        for (key, asked) in &self.domains {
            let mut distinct = asked.clone();
            distinct.sort_unstable();
            distinct.dedup();
            let (Some(lo), Some(hi)) = (
                distinct.iter().map(|d| d.0).min(),
                distinct.iter().map(|d| d.1).max(),
            ) else {
                continue;
            };
            let rows = |(l, h): (i64, i64)| i128::from(h) - i128::from(l) + 1;
            let separate: i128 = distinct.iter().map(|d| rows(*d)).sum();
            if distinct.len() > 1 && rows((lo, hi)) <= separate {
                out.insert(key.clone(), (lo, hi));
            }
        }
        out
    }

    /// Description of tensor `id` (ids come from `push`, so they exist).
    pub fn tensor(&self, id: TensorId) -> QTensor {
        self.tensors.get(id).cloned().unwrap_or(QTensor {
            shape: Vec::new(),
            scale: 0,
            bound: 0,
        })
    }

    /// Smallest and largest calibration value of tensor `id`.
    pub fn observed(&self, id: TensorId) -> (i64, i64) {
        let mut lo = i64::MAX;
        let mut hi = i64::MIN;
        for row in self.vals.get(id).into_iter().flatten() {
            for &v in row {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        if lo > hi {
            (0, 0)
        } else {
            (lo, hi)
        }
    }

    /// Appends a node, evaluates it on every calibration row and checks its bound.
    pub fn push(
        &mut self,
        name: String,
        op: QOp,
        inputs: Vec<TensorId>,
        out: QTensor,
    ) -> Result<TensorId, QuantizeError> {
        let rows = self.vals.first().map_or(0, Vec::len);
        let mut values = Vec::with_capacity(rows);
        for r in 0..rows {
            let operands: Vec<&[i64]> = inputs
                .iter()
                .map(|&t| {
                    self.vals
                        .get(t)
                        .and_then(|rows| rows.get(r))
                        .map(Vec::as_slice)
                })
                .collect::<Option<_>>()
                .ok_or_else(|| malformed(&name, "operand missing"))?;
            let v = apply(&op, &operands, &self.tables).map_err(|e| match e {
                OpError::Malformed => malformed(&name, "operands of the wrong size or overflow"),
                OpError::OutOfDomain { index, value, .. } => {
                    malformed(&name, &format!("table argument {value} at {index}"))
                }
                OpError::Divisor { index, value } => QuantizeError::Eval(EvalError::Divisor {
                    node: name.clone(),
                    index,
                    value,
                }),
                // A calibration row the model's own checks refuse (an index out of range,
                // a fraction in an integer input).
                OpError::Check {
                    index,
                    value,
                    lo,
                    hi,
                } => QuantizeError::Eval(EvalError::CheckFailed {
                    node: name.clone(),
                    index,
                    value,
                    lo,
                    hi,
                    scale: out.scale,
                }),
            })?;
            if v.len() != out.numel() {
                return Err(malformed(&name, "output size differs from its shape"));
            }
            check_bound(&name, &v, out.bound)?;
            values.push(v);
        }
        self.tensors.push(out.clone());
        self.vals.push(values);
        let structural = !self.trained_scope && !zkinfer_ir::qgraph::op_params(&op).is_empty();
        self.nodes.push(QNode {
            name,
            op,
            inputs,
            out,
            structural,
        });
        Ok(self.nodes.len())
    }

    /// Rescales tensor `id` down to `target` bits (round half up); a no-op at or below it.
    pub fn rescale_to(
        &mut self,
        id: TensorId,
        target: u32,
        name: &str,
    ) -> Result<TensorId, QuantizeError> {
        let t = self.tensor(id);
        if t.scale <= target {
            return Ok(id);
        }
        let shift = t.scale - target;
        self.push_rescale(id, shift, format!("{name}/rescale"), target)
    }

    /// Pushes `Rescale { shift }` with output scale `scale`.
    pub fn push_rescale(
        &mut self,
        id: TensorId,
        shift: u32,
        name: String,
        scale: u32,
    ) -> Result<TensorId, QuantizeError> {
        let t = self.tensor(id);
        let implied = rescale_bound(t.bound, shift);
        let bound = implied.min(self.calibrated_bound(id, shift, scale));
        self.push(
            name,
            QOp::Rescale { shift },
            vec![id],
            QTensor {
                shape: t.shape,
                scale,
                bound,
            },
        )
    }

    /// The calibrated bound of `Rescale { shift }` of tensor `id` (output scale `scale`): the
    /// largest calibrated output magnitude (at least 1.0) times `2^bound_headroom_bits`,
    /// when that saves at least `calibrated_gain` bits on the bound the operand implies;
    /// otherwise the implied bound. The circuit checks a calibrated bound on both sides.
    fn calibrated_bound(&self, id: TensorId, shift: u32, scale: u32) -> u64 {
        let implied = rescale_bound(self.tensor(id).bound, shift);
        let (lo, hi) = self.observed(id);
        let seen = rescale(lo, shift)
            .unsigned_abs()
            .max(rescale(hi, shift).unsigned_abs());
        let one = 1u64 << scale.min(40);
        let calibrated = u128::from(seen.max(one)) << self.config.bound_headroom_bits;
        let saves = u128::from(implied) >> self.calibrated_gain.min(63) > calibrated;
        if saves {
            calibrated as u64
        } else {
            implied
        }
    }

    /// `coef_a·x + constant` elementwise, at `x`'s scale.
    pub fn affine(
        &mut self,
        x: TensorId,
        coef_a: i64,
        constant: Vec<i64>,
        name: String,
    ) -> Result<TensorId, QuantizeError> {
        let t = self.tensor(x);
        let cmax = constant.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0);
        let bound = u128::from(t.bound) * u128::from(coef_a.unsigned_abs()) + u128::from(cmax);
        let out = QTensor {
            bound: checked_bound(&name, bound)?,
            ..t
        };
        self.push(
            name,
            QOp::Add {
                coef_a,
                coef_b: 0,
                constant,
            },
            vec![x],
            out,
        )
    }

    /// `y[i] = x[index[i]]` with the given output shape (scale and bound unchanged).
    pub fn select(
        &mut self,
        inputs: Vec<TensorId>,
        index: Vec<usize>,
        shape: Vec<usize>,
        name: String,
    ) -> Result<TensorId, QuantizeError> {
        let first = inputs.first().copied().unwrap_or(0);
        let t = self.tensor(first);
        let bound = inputs
            .iter()
            .map(|&i| self.tensor(i).bound)
            .max()
            .unwrap_or(0);
        self.push(
            name,
            QOp::Select { index },
            inputs,
            QTensor {
                shape,
                scale: t.scale,
                bound,
            },
        )
    }

    /// Repeats each element of `x` `group` times (broadcast a per-group value), shaped `shape`.
    pub fn broadcast_groups(
        &mut self,
        x: TensorId,
        group: usize,
        shape: Vec<usize>,
        name: String,
    ) -> Result<TensorId, QuantizeError> {
        let n = self.tensor(x).numel();
        let index = (0..n * group).map(|i| i / group.max(1)).collect();
        self.select(vec![x], index, shape, name)
    }

    /// Same integers, new scale label (a multiply by a power of two, free).
    pub fn relabel(
        &mut self,
        x: TensorId,
        scale: u32,
        shape: Vec<usize>,
        name: String,
    ) -> Result<TensorId, QuantizeError> {
        let t = self.tensor(x);
        self.push(
            name,
            QOp::Reshape,
            vec![x],
            QTensor {
                shape,
                scale,
                bound: t.bound,
            },
        )
    }

    /// Sums each contiguous group of `group` elements (a linear layer of ones).
    pub fn group_sum(
        &mut self,
        x: TensorId,
        group: usize,
        shape: Vec<usize>,
        name: String,
    ) -> Result<TensorId, QuantizeError> {
        let t = self.tensor(x);
        let bound = u128::from(t.bound) * group as u128;
        let out = QTensor {
            shape,
            scale: t.scale,
            bound: checked_bound(&name, bound)?,
        };
        self.push(
            name,
            QOp::Linear {
                weight: vec![1; group],
                bias: vec![0],
                n_in: group,
                n_out: 1,
            },
            vec![x],
            out,
        )
    }

    /// Divides by a positive integer constant `n`, rounding half up, at `x`'s scale: a rescale
    /// when `n` is a power of two, otherwise a multiply by `2^shift / n` (16 significant bits)
    /// and a rescale by `shift`.
    pub fn div_const(
        &mut self,
        x: TensorId,
        n: usize,
        name: &str,
    ) -> Result<TensorId, QuantizeError> {
        let scale = self.tensor(x).scale;
        self.div_const_from(x, n, name, scale)
    }

    /// [`Builder::div_const`], except that when the multiply by `2^shift / n` would pass the
    /// bound limit, the low bits of `x` are first dropped by a rescale (which may take a
    /// calibrated bound), down to scale `min_scale` at most: for a quotient whose consumer
    /// reads any scale (a variance feeding a table), where `x` carries more fraction bits
    /// than it needs.
    pub fn div_const_from(
        &mut self,
        x: TensorId,
        n: usize,
        name: &str,
        min_scale: u32,
    ) -> Result<TensorId, QuantizeError> {
        let t = self.tensor(x);
        if n <= 1 {
            return Ok(x);
        }
        if n.is_power_of_two() {
            return self.push_rescale(x, n.trailing_zeros(), format!("{name}/div"), t.scale);
        }
        // 2^shift / n keeps 16 significant bits whatever n is.
        let shift = 16 + u64::BITS - (n as u64).leading_zeros();
        let f = ((1u64 << shift) as f64 / n as f64).round() as i64;
        let fits = |bound: u64| {
            super::bits_of(u128::from(bound) * f.unsigned_abs() as u128) <= super::MAX_BOUND_BITS
        };
        // The fewest dropped bits after which the product fits (the rescale's own bound,
        // calibrated where that applies); none when it fits already or cannot.
        let drop = if fits(t.bound) {
            None
        } else {
            (1..=t.scale.saturating_sub(min_scale)).find(|&drop| {
                let scale = t.scale - drop;
                fits(rescale_bound(t.bound, drop).min(self.calibrated_bound(x, drop, scale)))
            })
        };
        let x = match drop {
            Some(drop) => self.push_rescale(x, drop, format!("{name}/drop"), t.scale - drop)?,
            None => x,
        };
        let t = self.tensor(x);
        let m = self.mul_const(x, vec![f; t.numel()], format!("{name}/div"))?;
        self.push_rescale(m, shift, format!("{name}/div/rescale"), t.scale)
    }

    /// `x · c` for a float constant broadcast to every element: a free relabel when `c` is one
    /// power of two, otherwise an integer multiply at the weight scale and a rescale.
    pub fn mul_float(
        &mut self,
        x: TensorId,
        constant: &[f32],
        shape: Vec<usize>,
        name: String,
    ) -> Result<TensorId, QuantizeError> {
        let xt = self.tensor(x);
        if let Some(&c0) = constant.first() {
            if constant.iter().all(|&c| c == c0) && c0 > 0.0 {
                let e = f64::from(c0).log2();
                if e.fract() == 0.0 && e.abs() <= 62.0 {
                    let e = e as i64;
                    let scale = i64::from(xt.scale) - e;
                    if (0..=62).contains(&scale) {
                        return self.relabel(x, scale as u32, shape, name);
                    }
                }
            }
        }
        let ws = self.config.weight_scale;
        let factor = super::quantize_f32(constant, ws);
        if factor.len() != xt.numel() {
            return Err(QuantizeError::Malformed {
                node: name,
                detail: "constant size differs from the tensor".into(),
            });
        }
        let m = self.mul_const(x, factor, name.clone())?;
        let m = self.relabel(m, xt.scale + ws, shape, format!("{name}/scale"))?;
        self.rescale_to(m, self.config.scale.max(xt.scale), &name)
    }

    /// `y = factor[i]·x[i]` at `x`'s scale (the caller fixes the scale label).
    pub fn mul_const(
        &mut self,
        x: TensorId,
        factor: Vec<i64>,
        name: String,
    ) -> Result<TensorId, QuantizeError> {
        let t = self.tensor(x);
        let fmax = factor.iter().map(|f| f.unsigned_abs()).max().unwrap_or(0);
        let bound = checked_bound(&name, u128::from(t.bound) * u128::from(fmax))?;
        self.push(
            name,
            QOp::MulConst { factor },
            vec![x],
            QTensor { bound, ..t },
        )
    }
}

fn malformed(node: &str, detail: &str) -> QuantizeError {
    QuantizeError::Malformed {
        node: node.to_string(),
        detail: detail.to_string(),
    }
}
