//! The quantized graph: integer ops with power-of-two scales and static bounds.
//!
//! A tensor's real value is `q / 2^scale`; the compiler guarantees `|q| <= bound`
//! for every element of every tensor (ARCHITECTURE.md section 3).

use serde::{Deserialize, Serialize};

use crate::elementwise::ElementOp;
use crate::geometry::ConvGeom;
use crate::interface::IoPart;

/// Index of a tensor in a graph (float or quantized); tensor 0 is the graph input.
pub type TensorId = usize;

/// Largest static bound, in bits, that the runtime and circuit support: every value and
/// every partial sum stays below `2^MAX_BOUND_BITS`, far from the field modulus.
pub const MAX_BOUND_BITS: u32 = 62;

/// Static description of one quantized tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QTensor {
    /// Shape (row-major).
    pub shape: Vec<usize>,
    /// Power-of-two scale: real value = `q / 2^scale`.
    pub scale: u32,
    /// Proven static bound: `|q| <= bound` for every element.
    pub bound: u64,
}

impl QTensor {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bits needed for the magnitude: the smallest `b` with `bound < 2^b`.
    pub fn bound_bits(&self) -> u32 {
        u64::BITS - self.bound.leading_zeros()
    }
}

/// Integer operations. Their exact meaning is in the `semantics` module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QOp {
    /// `acc[.., j] = bias[j] + Σ_i weight[j * n_in + i] * x[.., i]`, exact, no rescale.
    Linear {
        /// Row-major `[n_out, n_in]` integer weights at the weight scale.
        weight: Vec<i64>,
        /// `n_out` biases at scale `weight scale + input scale`.
        bias: Vec<i64>,
        /// Length of the input's last axis.
        n_in: usize,
        /// Length of the output's last axis.
        n_out: usize,
    },
    /// `y = floor((v + 2^(shift-1)) / 2^shift)`: drop `shift` bits, rounding half up.
    Rescale {
        /// Number of bits dropped (at least 1).
        shift: u32,
    },
    /// `y = max(x, 0)`.
    Relu,
    /// `y[i] = coef_a * a[i] + coef_b * b[i] + constant[i]`. With one input, `coef_b` is 0.
    Add {
        /// Multiplier of the first operand (a power of two aligning scales).
        coef_a: i64,
        /// Multiplier of the second operand (0 when there is none).
        coef_b: i64,
        /// Per-element constant at the output scale (empty means all zero).
        constant: Vec<i64>,
    },
    /// Same elements, new shape.
    Reshape,
    /// `acc[o] = bias[channel(o)] + Σ_(i, w) ∈ geom.taps(o) weight[w] * x[i]`, exact, no rescale.
    Conv {
        /// `[out_channels, in_channels / groups, kh, kw]` integer weights.
        weight: Vec<i64>,
        /// One bias per output channel, at the accumulator's scale.
        bias: Vec<i64>,
        /// Shape parameters.
        geom: ConvGeom,
    },
    /// `y[b, i, j] = Σ_t a[b, i, t] * b[b, t, j]` for two activations, exact, no rescale.
    MatMul {
        /// Batch count.
        batch: usize,
        /// Rows of `a`.
        m: usize,
        /// Inner dimension.
        k: usize,
        /// Columns of `b`.
        n: usize,
    },
    /// `y[i] = a[i] * b[i]`, exact.
    Mul,
    /// `y[i] = factor[i] * x[i]`, exact.
    MulConst {
        /// One integer factor per element.
        factor: Vec<i64>,
    },
    /// `y[g] = max(x[g * group .. (g + 1) * group])`.
    Max {
        /// Elements per group.
        group: usize,
    },
    /// `y[i] = floor((a[i] * 2^(shift+1) + b[i]) / (2 * b[i]))`: `a·2^shift / b` rounded half
    /// up. Every `b[i]` must be at least 1.
    Div {
        /// Extra bits of precision in the quotient.
        shift: u32,
    },
    /// `y[i] = tables[table].values[x[i] - lo]`; `x[i]` must lie in the table's domain.
    Lookup {
        /// Index into [`QGraph::tables`].
        table: usize,
    },
    /// Rewiring: `y[i] = concat(inputs)[index[i]]`. No arithmetic.
    Select {
        /// Source position of each output element in the concatenated inputs.
        index: Vec<usize>,
    },
    /// `y[i] = op(x[i])`, exact, at the operand's scale (see [`ElementOp`]).
    Elementwise {
        /// Which op.
        op: ElementOp,
    },
    /// `y = x`, where every `x[i]` must lie in `[lo, hi]`: the circuit proves it (two range
    /// rows on the element's own cell), the runtime refuses an input that breaks it. This is
    /// how a lowering asserts a fact the model's meaning depends on: an integer input is an
    /// integer, an index is in range, a one-hot has exactly one hit.
    Check {
        /// Smallest value allowed.
        lo: i64,
        /// Largest value allowed.
        hi: i64,
    },
}

/// A function tabulated over a contiguous integer domain `[lo, lo + values.len())`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// What it tabulates, e.g. `exp`.
    pub name: String,
    /// Scale of the argument.
    pub in_scale: u32,
    /// Scale of the value.
    pub out_scale: u32,
    /// Smallest argument.
    pub lo: i64,
    /// `values[j]` is the function at argument `lo + j`.
    pub values: Vec<i64>,
}

impl Table {
    /// Largest argument.
    pub fn hi(&self) -> i64 {
        self.lo + self.values.len() as i64 - 1
    }

    /// The value at `x`, if `x` is in the domain.
    pub fn get(&self, x: i64) -> Option<i64> {
        let j = usize::try_from(x.checked_sub(self.lo)?).ok()?;
        self.values.get(j).copied()
    }

    /// Largest `|value|`.
    pub fn max_abs(&self) -> u64 {
        self.values
            .iter()
            .map(|v| v.unsigned_abs())
            .max()
            .unwrap_or(0)
    }
}

impl QOp {
    /// Short op name used in reports and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            QOp::Linear { .. } => "Linear",
            QOp::Rescale { .. } => "Rescale",
            QOp::Relu => "Relu",
            QOp::Add { .. } => "Add",
            QOp::Reshape => "Reshape",
            QOp::Conv { .. } => "Conv",
            QOp::MatMul { .. } => "MatMul",
            QOp::Mul => "Mul",
            QOp::MulConst { .. } => "MulConst",
            QOp::Max { .. } => "Max",
            QOp::Div { .. } => "Div",
            QOp::Lookup { .. } => "Lookup",
            QOp::Select { .. } => "Select",
            QOp::Elementwise { op } => op.name(),
            QOp::Check { .. } => "Check",
        }
    }
}

/// One quantized node; it produces tensor `index + 1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QNode {
    /// Name, derived from the ONNX node name.
    pub name: String,
    /// The integer op.
    pub op: QOp,
    /// Tensor ids read, in operand order.
    pub inputs: Vec<TensorId>,
    /// The tensor produced.
    pub out: QTensor,
    /// Its parameters are constants the compiler itself emitted (a one-hot's weights, a
    /// rounding offset, a tie-break), not the model's trained weights: the circuit pins them
    /// to their values (in the key) whatever the parameter visibility.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub structural: bool,
}

/// A compiled model: the quantized graph plus what ties it to its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QGraph {
    /// ONNX name of the input.
    pub input_name: String,
    /// The input tensor (tensor id 0).
    pub input: QTensor,
    /// Nodes in execution order.
    pub nodes: Vec<QNode>,
    /// Tensor id of the output.
    pub output: TensorId,
    /// ONNX name of the output.
    pub output_name: String,
    /// SHA-256 (hex) of the source model file.
    pub source_sha256: String,
    /// SHA-256 (hex) of the quantized weights and constants.
    pub weights_sha256: String,
    /// Lookup tables, shared by every node with the same function and domain.
    #[serde(default)]
    pub tables: Vec<Table>,
    /// Layout limit chosen at compile time: at most this many weight columns (dot-product lanes
    /// times accumulators) per linear row. Fewer mean fewer columns (cheaper on-chain
    /// verification) and longer proofs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lanes: Option<usize>,
    /// The graph inputs laid end to end in `input`, when there are several (empty: one, named
    /// `input_name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_parts: Vec<IoPart>,
    /// The graph outputs laid end to end in the output tensor, when there are several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_parts: Vec<IoPart>,
    /// The model has no graph input (every value is a constant or computed from shapes):
    /// `input` is then a one-element anchor whose bound is 0, so the circuit fixes it to 0.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_input: bool,
    /// What numbers each graph input holds ([`QGraph::inputs`] order), when some input is
    /// integer or boolean (empty: all real). The graph itself proves it: the importer puts a
    /// [`QOp::Check`] on every integer and boolean input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_kinds: Vec<crate::NumberKind>,
    /// What the proof reveals of the input: public values, nothing, or a commitment.
    #[serde(default, skip_serializing_if = "crate::Visibility::is_public")]
    pub input_visibility: crate::Visibility,
    /// One visibility per graph input (`input_parts` order), when they differ; empty: every
    /// input has `input_visibility`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_part_visibility: Vec<crate::Visibility>,
    /// What the proof reveals of the output: public values, nothing, or a commitment.
    #[serde(default, skip_serializing_if = "crate::Visibility::is_public")]
    pub output_visibility: crate::Visibility,
    /// Where the weights and constants live: fixed columns (the key), or private advice,
    /// possibly with a public commitment.
    #[serde(default, skip_serializing_if = "crate::ParamVisibility::is_fixed")]
    pub param_visibility: crate::ParamVisibility,
}

/// One parameter tensor of a node (weights, bias, factors or constants), as the circuit
/// checks and commits it when the parameters are not fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamTensor<'a> {
    /// Index of the node that reads it.
    pub node: usize,
    /// The values, in the op's order.
    pub values: &'a [i64],
    /// The node's parameters are structural ([`QNode::structural`]): pinned, not advice.
    pub structural: bool,
    /// `2^b - 1` for the smallest `b >= 1` with every `|value| <= 2^b - 1`: a bound that
    /// depends only on the values' width, so one key serves every weight set of that width.
    pub bound: u64,
}

/// The parameter tensors of `op`, in the order the circuit lays them out.
pub fn op_params(op: &QOp) -> Vec<&[i64]> {
    match op {
        QOp::Linear { weight, bias, .. } | QOp::Conv { weight, bias, .. } => {
            vec![weight.as_slice(), bias.as_slice()]
        }
        QOp::MulConst { factor } => vec![factor.as_slice()],
        QOp::Add { constant, .. } if !constant.is_empty() => vec![constant.as_slice()],
        _ => Vec::new(),
    }
}

/// The parameter tensors of `op`, mutably, in [`op_params`]'s order.
fn op_params_mut(op: &mut QOp) -> Vec<&mut Vec<i64>> {
    match op {
        QOp::Linear { weight, bias, .. } | QOp::Conv { weight, bias, .. } => vec![weight, bias],
        QOp::MulConst { factor } => vec![factor],
        QOp::Add { constant, .. } if !constant.is_empty() => vec![constant],
        _ => Vec::new(),
    }
}

/// The width bound of [`ParamTensor::bound`] for `values`.
pub fn param_bound(values: &[i64]) -> u64 {
    let max = values.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
    let bits = (u64::BITS - max.leading_zeros()).max(1);
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

impl QGraph {
    /// Static description of tensor `id`, if it exists.
    pub fn tensor(&self, id: TensorId) -> Option<&QTensor> {
        if id == 0 {
            Some(&self.input)
        } else {
            self.nodes.get(id - 1).map(|n| &n.out)
        }
    }

    /// The graph inputs, in the order they are laid out in `input`.
    pub fn inputs(&self) -> Vec<IoPart> {
        crate::interface::graph_inputs(
            self.no_input,
            &self.input_parts,
            &self.input_name,
            &self.input.shape,
        )
    }

    /// The graph outputs, in the order they are laid out in the output tensor.
    pub fn outputs(&self) -> Vec<IoPart> {
        if self.output_parts.is_empty() {
            vec![IoPart {
                name: self.output_name.clone(),
                shape: self
                    .output_tensor()
                    .map(|t| t.shape.clone())
                    .unwrap_or_default(),
            }]
        } else {
            self.output_parts.clone()
        }
    }

    /// The kind of each graph input ([`QGraph::inputs`] order).
    pub fn input_kinds(&self) -> Vec<crate::NumberKind> {
        let n = self.inputs().len();
        if self.input_kinds.len() == n {
            self.input_kinds.clone()
        } else {
            vec![crate::NumberKind::Real; n]
        }
    }

    /// The input's stretches with one visibility each, in layout order.
    pub fn input_segments(&self) -> Vec<crate::visibility::Segment> {
        crate::visibility::segments(
            &self.input_parts,
            &self.input_part_visibility,
            (&self.input_name, &self.input.shape),
            self.input_visibility,
        )
    }

    /// Public instances the input takes (for each segment: its values, none, or its
    /// commitment).
    pub fn input_instances(&self) -> usize {
        self.input_segments()
            .iter()
            .map(|s| s.visibility.instances(s.len()))
            .sum()
    }

    /// The input's visibility in words: one mode, or `x hashed, mask public`.
    pub fn input_visibility_text(&self) -> String {
        if self.input_part_visibility.is_empty() {
            return self.input_visibility.to_string();
        }
        self.input_segments()
            .iter()
            .map(|s| format!("{} {}", s.name, s.visibility))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether some part of the input is hashed.
    pub fn hashes_input(&self) -> bool {
        self.input_segments()
            .iter()
            .any(|s| s.visibility == crate::Visibility::Hashed)
    }

    /// Public instances the output takes (its values, none, or its commitment).
    pub fn output_instances(&self) -> usize {
        self.output_visibility
            .instances(self.output_tensor().map_or(0, QTensor::numel))
    }

    /// Public instances the parameters take (their commitment, when hashed).
    pub fn param_instances(&self) -> usize {
        usize::from(self.param_visibility == crate::ParamVisibility::Hashed)
    }

    /// Whether the input or the output is committed to with a salt.
    pub fn salts_anything(&self) -> bool {
        self.hashes_input() || self.output_visibility == crate::Visibility::Hashed
    }

    /// Whether any group is committed to (the circuit then needs the Poseidon chip).
    pub fn hashes_anything(&self) -> bool {
        self.salts_anything() || self.param_visibility == crate::ParamVisibility::Hashed
    }

    /// Whether the weights and constants are advice (private or hashed).
    pub fn advice_params(&self) -> bool {
        self.param_visibility.is_advice()
    }

    /// A copy whose trained parameters (every parameter tensor of a non-structural node) are
    /// `f` of their values; the structure, bounds and structural constants are unchanged.
    pub fn map_trained_params(&self, f: impl Fn(i64) -> i64) -> QGraph {
        let mut g = self.clone();
        for node in g.nodes.iter_mut().filter(|n| !n.structural) {
            for values in op_params_mut(&mut node.op) {
                values.iter_mut().for_each(|v| *v = f(*v));
            }
        }
        g
    }

    /// Every parameter tensor, in node order (see [`op_params`]).
    pub fn param_tensors(&self) -> Vec<ParamTensor<'_>> {
        self.nodes
            .iter()
            .enumerate()
            .flat_map(|(node, n)| {
                op_params(&n.op).into_iter().map(move |values| ParamTensor {
                    node,
                    values,
                    structural: n.structural,
                    bound: param_bound(values),
                })
            })
            .collect()
    }

    /// The output tensor's description.
    pub fn output_tensor(&self) -> Option<&QTensor> {
        self.tensor(self.output)
    }

    /// Number of multiply-accumulates of the linear layers.
    pub fn macs(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                QOp::Linear { n_in, .. } => n.out.numel() * n_in,
                QOp::Conv { geom, .. } => (0..geom.out_numel()).map(|o| geom.taps(o).len()).sum(),
                QOp::MatMul { batch, m, k, n } => batch * m * k * n,
                _ => 0,
            })
            .sum()
    }
}
