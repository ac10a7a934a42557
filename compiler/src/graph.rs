//! The float graph produced by ONNX import: a straight-line list of typed ops.
//!
//! Tensor ids: `0` is the graph input; node `i` produces tensor `i + 1`.
//! Every node lists the tensor ids it reads; ids always point backwards, so the
//! node list is already in execution order.

use serde::{Deserialize, Serialize};

use crate::geometry::ConvGeom;
pub use crate::unary::{Param, UnaryFn, UnarySpec};
pub use zkinfer_ir::{ElementOp, IoPart};

pub use zkinfer_ir::qgraph::TensorId;

/// A float model: one input tensor, straight-line nodes, one output tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// ONNX name of the graph input.
    pub input_name: String,
    /// Shape of the input, with symbolic dimensions (batch) set to 1.
    pub input_shape: Vec<usize>,
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
    /// Tensor id of the graph output.
    pub output: TensorId,
    /// ONNX name of the graph output.
    pub output_name: String,
    /// The graph inputs laid end to end in the input, when there are several (empty: one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_parts: Vec<IoPart>,
    /// The graph outputs laid end to end in the output, when there are several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_parts: Vec<IoPart>,
    /// The model has no graph input: `input` is a one-element anchor that is always 0.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_input: bool,
    /// What numbers each graph input holds, when some input is integer or boolean (empty:
    /// all real); the importer checks those inputs with [`Op::Check`] nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_kinds: Vec<zkinfer_ir::NumberKind>,
}

impl Graph {
    /// The graph inputs, in the order they are laid out in the input (none for a model
    /// without inputs).
    pub fn inputs(&self) -> Vec<IoPart> {
        zkinfer_ir::interface::graph_inputs(
            self.no_input,
            &self.input_parts,
            &self.input_name,
            &self.input_shape,
        )
    }
}

fn yes() -> bool {
    true
}

/// One operation of a float graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// ONNX node name (or `op_type#index` when the node is unnamed).
    pub name: String,
    /// The operation.
    pub op: Op,
    /// Tensor ids this node reads, in the op's operand order.
    pub inputs: Vec<TensorId>,
    /// Shape of the tensor this node produces.
    pub shape: Vec<usize>,
    /// Its constants are the model's trained weights (an initializer's Gemm, Conv or norm
    /// parameters): advice under private or hashed parameter visibility. Constants the
    /// importer emits itself (one-hot weights, offsets, tie-breaks) are structural, fixed in
    /// the key whatever the visibility.
    #[serde(default = "yes")]
    pub trained: bool,
}

/// Float operations. Constants (weights) are stored inside the op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// `y[.., j] = bias[j] + Σ_i weight[j * n_in + i] * x[.., i]` over the last axis of the input.
    /// Gemm (any alpha/beta/transB) and MatMul against a constant import to this.
    Linear {
        /// Row-major `[n_out, n_in]` weight matrix.
        weight: Vec<f32>,
        /// `n_out` biases (zeros when the model has none).
        bias: Vec<f32>,
        /// Length of the input's last axis.
        n_in: usize,
        /// Length of the output's last axis.
        n_out: usize,
    },
    /// `y = x + c`, with the constant already broadcast to the output shape (row-major).
    AddConst {
        /// The constant, one value per output element.
        constant: Vec<f32>,
    },
    /// `y = a + b` for two tensors of the same shape.
    Add,
    /// `y = max(x, 0)`.
    Relu,
    /// Same data, new shape (Reshape, Flatten, Identity, Squeeze, Unsqueeze).
    Reshape,
    /// 2-D convolution of a `[C, H, W]` input (batch 1).
    Conv {
        /// `[out_channels, in_channels / groups, kh, kw]` weights, row-major.
        weight: Vec<f32>,
        /// One bias per output channel.
        bias: Vec<f32>,
        /// Shape parameters.
        geom: ConvGeom,
    },
    /// Average over each window (`geom` has `groups = channels`, weights unused).
    AvgPool {
        /// Window geometry.
        geom: ConvGeom,
        /// Divide by the full window (ONNX `count_include_pad = 1`) or by the taps inside.
        count_include_pad: bool,
    },
    /// Maximum over each window (padded positions are ignored).
    MaxPool {
        /// Window geometry.
        geom: ConvGeom,
    },
    /// `y = x * c`, with the constant already broadcast to the output shape.
    MulConst {
        /// The constant, one value per output element.
        constant: Vec<f32>,
    },
    /// `y = a - b` for two tensors of the same shape.
    Sub,
    /// `y = a * b` for two tensors of the same shape.
    Mul,
    /// `y = a / b` for two tensors of the same shape.
    Div,
    /// An elementwise function.
    Unary {
        /// Which function.
        func: UnaryFn,
    },
    /// Batched product of two activations: `a [batch, m, k] x b [batch, k, n]`.
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
    /// Softmax over each contiguous group of `group` elements (the last axis).
    Softmax {
        /// Length of the normalized axis.
        group: usize,
    },
    /// Layer normalization over each contiguous group of `group` elements.
    LayerNorm {
        /// Per-position scale (`group` values).
        gamma: Vec<f32>,
        /// Per-position shift (`group` values).
        beta: Vec<f32>,
        /// Added to the variance.
        epsilon: f32,
        /// Elements normalized together (the trailing axes).
        group: usize,
    },
    /// Rewiring: `y[i] = concat(inputs)[index[i]]` (Transpose, Slice, Concat, Gather with
    /// constant indices, Expand/broadcast).
    Select {
        /// Source position of each output element in the concatenated inputs.
        index: Vec<usize>,
    },
    /// Maximum over each contiguous group of `group` elements (ReduceMax over trailing axes).
    ReduceMax {
        /// Elements reduced together.
        group: usize,
    },
    /// An exact elementwise op of [`ElementOp`]'s family (Abs, ...): `y[i] = op(x[i])`.
    Elementwise {
        /// Which op.
        op: ElementOp,
    },
    /// `y = x`, where every `x[i]` must lie in `[lo, hi]` (real values): a fact the model's
    /// meaning rests on (an integer input is an integer, an index is in range), proven by the
    /// circuit and refused by the runtime when false.
    Check {
        /// Smallest value allowed.
        lo: f64,
        /// Largest value allowed.
        hi: f64,
    },
}

impl Op {
    /// Short op name used in reports and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Linear { .. } => "Linear",
            Op::AddConst { .. } => "AddConst",
            Op::Add => "Add",
            Op::Relu => "Relu",
            Op::Reshape => "Reshape",
            Op::Conv { .. } => "Conv",
            Op::AvgPool { .. } => "AvgPool",
            Op::MaxPool { .. } => "MaxPool",
            Op::MulConst { .. } => "MulConst",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::Unary { func } => func.spec().onnx_op,
            Op::MatMul { .. } => "MatMul",
            Op::Softmax { .. } => "Softmax",
            Op::LayerNorm { .. } => "LayerNorm",
            Op::Select { .. } => "Select",
            Op::ReduceMax { .. } => "ReduceMax",
            Op::Elementwise { op } => op.name(),
            Op::Check { .. } => "Check",
        }
    }
}

impl Node {
    /// A node named `name` applying `op` to the tensors `inputs`, producing `shape`.
    pub fn new(name: &str, op: Op, inputs: Vec<TensorId>, shape: Vec<usize>) -> Self {
        Node {
            name: name.to_string(),
            op,
            inputs,
            shape,
            trained: true,
        }
    }

    /// Number of elements this node produces.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

impl Graph {
    /// A graph with one input of `input_shape` (named `input`) whose output is the last of
    /// `nodes` (named `output`); for building models in code.
    pub fn chain(input_shape: Vec<usize>, nodes: Vec<Node>) -> Self {
        Graph {
            input_name: "input".to_string(),
            input_shape,
            output: nodes.len(),
            nodes,
            output_name: "output".to_string(),
            input_parts: Vec::new(),
            output_parts: Vec::new(),
            no_input: false,
            input_kinds: Vec::new(),
        }
    }

    /// Shape of tensor `id`.
    pub fn shape_of(&self, id: TensorId) -> &[usize] {
        if id == 0 {
            &self.input_shape
        } else {
            self.nodes
                .get(id - 1)
                .map(|n| n.shape.as_slice())
                .unwrap_or(&[])
        }
    }

    /// Number of input elements.
    pub fn input_numel(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Runs the graph in f64 and returns every tensor (index = tensor id).
    /// This is the float reference the quantized model's error is measured against.
    pub fn eval_f64(&self, input: &[f64]) -> Vec<Vec<f64>> {
        let mut values: Vec<Vec<f64>> = Vec::with_capacity(self.nodes.len() + 1);
        values.push(input.to_vec());
        for node in &self.nodes {
            let arg = |k: usize| -> &[f64] {
                node.inputs
                    .get(k)
                    .and_then(|&t| values.get(t))
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
            };
            let out = match &node.op {
                Op::Linear {
                    weight,
                    bias,
                    n_in,
                    n_out,
                } => {
                    let x = arg(0);
                    let rows = x.len() / (*n_in).max(1);
                    let mut y = vec![0.0; rows * n_out];
                    for r in 0..rows {
                        for j in 0..*n_out {
                            let mut acc = f64::from(bias[j]);
                            for i in 0..*n_in {
                                acc += f64::from(weight[j * n_in + i]) * x[r * n_in + i];
                            }
                            y[r * n_out + j] = acc;
                        }
                    }
                    y
                }
                Op::AddConst { constant } => arg(0)
                    .iter()
                    .zip(constant)
                    .map(|(a, c)| a + f64::from(*c))
                    .collect(),
                Op::Add => arg(0).iter().zip(arg(1)).map(|(a, b)| a + b).collect(),
                Op::Relu => arg(0).iter().map(|a| a.max(0.0)).collect(),
                Op::Reshape | Op::Check { .. } => arg(0).to_vec(),
                Op::Elementwise { op } => arg(0).iter().map(|&x| op.float(x)).collect(),
                op => eval_more_f64(op, node.inputs.len(), &|k| arg(k)),
            };
            values.push(out);
        }
        values
    }
}

/// Float semantics of the ops beyond the MLP set (empty output on malformed operands).
fn eval_more_f64<'a>(op: &Op, n_inputs: usize, arg: &dyn Fn(usize) -> &'a [f64]) -> Vec<f64> {
    let zip = |f: fn(f64, f64) -> f64| -> Vec<f64> {
        arg(0).iter().zip(arg(1)).map(|(&a, &b)| f(a, b)).collect()
    };
    match op {
        Op::Conv { weight, bias, geom } => {
            let x = arg(0);
            (0..geom.out_numel())
                .map(|o| {
                    let b = bias.get(geom.out_channel(o)).copied().unwrap_or(0.0);
                    geom.taps(o).iter().fold(f64::from(b), |acc, &(i, w)| {
                        acc + x.get(i).copied().unwrap_or(0.0)
                            * f64::from(weight.get(w).copied().unwrap_or(0.0))
                    })
                })
                .collect()
        }
        Op::AvgPool {
            geom,
            count_include_pad,
        } => {
            let x = arg(0);
            (0..geom.out_numel())
                .map(|o| {
                    let taps = geom.taps(o);
                    let n = if *count_include_pad {
                        geom.window()
                    } else {
                        taps.len()
                    };
                    let s: f64 = taps
                        .iter()
                        .map(|&(i, _)| x.get(i).copied().unwrap_or(0.0))
                        .sum();
                    s / n.max(1) as f64
                })
                .collect()
        }
        Op::MaxPool { geom } => {
            let x = arg(0);
            (0..geom.out_numel())
                .map(|o| {
                    geom.taps(o)
                        .iter()
                        .map(|&(i, _)| x.get(i).copied().unwrap_or(0.0))
                        .fold(f64::NEG_INFINITY, f64::max)
                })
                .collect()
        }
        Op::MulConst { constant } => arg(0)
            .iter()
            .zip(constant)
            .map(|(a, c)| a * f64::from(*c))
            .collect(),
        Op::Sub => zip(|a, b| a - b),
        Op::Mul => zip(|a, b| a * b),
        Op::Div => zip(|a, b| a / b),
        Op::Unary { func } => arg(0).iter().map(|&a| func.eval(a)).collect(),
        Op::MatMul { batch, m, k, n } => {
            let (a, b) = (arg(0), arg(1));
            let mut y = vec![0.0; batch * m * n];
            for bi in 0..*batch {
                for i in 0..*m {
                    for j in 0..*n {
                        let mut acc = 0.0;
                        for t in 0..*k {
                            acc += a.get((bi * m + i) * k + t).copied().unwrap_or(0.0)
                                * b.get((bi * k + t) * n + j).copied().unwrap_or(0.0);
                        }
                        if let Some(c) = y.get_mut((bi * m + i) * n + j) {
                            *c = acc;
                        }
                    }
                }
            }
            y
        }
        Op::Softmax { group } => {
            let mut y = Vec::with_capacity(arg(0).len());
            for row in arg(0).chunks((*group).max(1)) {
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
                let s: f64 = e.iter().sum();
                y.extend(e.iter().map(|v| v / s));
            }
            y
        }
        Op::LayerNorm {
            gamma,
            beta,
            epsilon,
            group,
        } => {
            let mut y = Vec::with_capacity(arg(0).len());
            for row in arg(0).chunks((*group).max(1)) {
                let n = row.len() as f64;
                let mean = row.iter().sum::<f64>() / n;
                let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                let r = 1.0 / (var + f64::from(*epsilon)).sqrt();
                y.extend(row.iter().enumerate().map(|(i, v)| {
                    let g = gamma.get(i).copied().map_or(1.0, f64::from);
                    let b = beta.get(i).copied().map_or(0.0, f64::from);
                    (v - mean) * r * g + b
                }));
            }
            y
        }
        Op::ReduceMax { group } => arg(0)
            .chunks((*group).max(1))
            .map(|row| row.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            .collect(),
        Op::Select { index } => {
            // Every operand, empty ones included, so positions match the integer Select.
            let all: Vec<f64> = (0..n_inputs).flat_map(|k| arg(k).iter().copied()).collect();
            index
                .iter()
                .map(|&i| all.get(i).copied().unwrap_or(0.0))
                .collect()
        }
        Op::Linear { .. }
        | Op::AddConst { .. }
        | Op::Add
        | Op::Relu
        | Op::Reshape
        | Op::Check { .. }
        | Op::Elementwise { .. } => Vec::new(),
    }
}
