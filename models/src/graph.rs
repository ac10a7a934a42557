//! The float graph produced by ONNX import: a straight-line list of typed ops.
//!
//! Tensor ids: `0` is the graph input; node `i` produces tensor `i + 1`.
//! Every node lists the tensor ids it reads; ids always point backwards, so the
//! node list is already in execution order.

use serde::{Deserialize, Serialize};

/// Index of a tensor in a [`Graph`] or [`crate::QGraph`]: 0 is the input, `i + 1` is node `i`'s output.
pub type TensorId = usize;

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
        }
    }
}

impl Node {
    /// Number of elements this node produces.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

impl Graph {
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
                Op::Reshape => arg(0).to_vec(),
            };
            values.push(out);
        }
        values
    }
}
