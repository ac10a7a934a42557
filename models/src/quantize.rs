//! Quantization: float [`Graph`] + calibration inputs → [`QGraph`] with static bounds.
//!
//! Scales are powers of two. Weights use `weight_scale`; activations leave every
//! linear layer rescaled (round half up) to `scale`. Bounds are proven statically
//! from the quantized weights and the calibrated input range.

use serde::{Deserialize, Serialize};

use crate::error::QuantizeError;
use crate::graph::{Graph, Op, TensorId};
use crate::input::{dequantize, quantize_values};
use crate::qgraph::{QGraph, QNode, QOp, QTensor};

/// Largest static bound (in bits) a tensor may have: accumulators must fit in i64.
pub const MAX_BOUND_BITS: u32 = 62;

/// Quantization settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantizeConfig {
    /// Scale (bits) of the input and of every activation after a rescale.
    pub scale: u32,
    /// Scale (bits) of weights.
    pub weight_scale: u32,
    /// Extra bits of input range above the calibrated maximum (1 = twice the range).
    pub headroom_bits: u32,
}

impl Default for QuantizeConfig {
    fn default() -> Self {
        QuantizeConfig {
            scale: 13,
            weight_scale: 16,
            headroom_bits: 1,
        }
    }
}

/// The compiled graph plus how float tensors map onto it.
#[derive(Debug, Clone)]
pub struct Quantized {
    /// The integer graph.
    pub graph: QGraph,
    /// For each float tensor id, the quantized tensor id that carries its value.
    pub float_to_q: Vec<TensorId>,
}

fn check_finite(what: &str, values: &[f32]) -> Result<(), QuantizeError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(QuantizeError::NonFinite {
            what: what.to_string(),
            index,
        }),
        None => Ok(()),
    }
}

fn quantize_f32(values: &[f32], scale: u32) -> Vec<i64> {
    let v: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
    quantize_values(&v, scale)
}

fn bits_of(bound: u128) -> u32 {
    u128::BITS - bound.leading_zeros()
}

fn checked_bound(node: &str, bound: u128) -> Result<u64, QuantizeError> {
    let bits = bits_of(bound);
    if bits > MAX_BOUND_BITS {
        return Err(QuantizeError::Overflow {
            node: node.to_string(),
            bits,
            max_bits: MAX_BOUND_BITS,
        });
    }
    Ok(bound as u64)
}

/// Quantizes `graph`. `calibration` holds one or more flattened float inputs that set the
/// input range; `source_sha256` is the hex SHA-256 of the source model file.
pub fn quantize(
    graph: &Graph,
    calibration: &[Vec<f64>],
    config: QuantizeConfig,
    source_sha256: &str,
) -> Result<Quantized, QuantizeError> {
    if !(1..=24).contains(&config.scale) {
        return Err(QuantizeError::BadSetting {
            what: "scale",
            value: config.scale.to_string(),
            range: "1..=24",
        });
    }
    if !(1..=24).contains(&config.weight_scale) {
        return Err(QuantizeError::BadSetting {
            what: "weight scale",
            value: config.weight_scale.to_string(),
            range: "1..=24",
        });
    }
    if config.headroom_bits > 16 {
        return Err(QuantizeError::BadSetting {
            what: "headroom bits",
            value: config.headroom_bits.to_string(),
            range: "0..=16",
        });
    }
    if calibration.is_empty() {
        return Err(QuantizeError::EmptyCalibration);
    }
    let numel = graph.input_numel();
    let mut max_abs = 0.0f64;
    for (row, values) in calibration.iter().enumerate() {
        if values.len() != numel {
            return Err(QuantizeError::CalibrationLength {
                row,
                input: graph.input_name.clone(),
                expected: numel,
                got: values.len(),
            });
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(QuantizeError::NonFinite {
                what: format!("calibration row {row}"),
                index,
            });
        }
        max_abs = values.iter().fold(max_abs, |m, v| m.max(v.abs()));
    }
    let calibrated = (max_abs * f64::from(config.scale).exp2()).ceil().max(1.0) as u128;
    let input_bound = checked_bound(&graph.input_name, calibrated << config.headroom_bits)?;
    let input = QTensor {
        shape: graph.input_shape.clone(),
        scale: config.scale,
        bound: input_bound,
    };

    let mut b = Builder {
        nodes: Vec::new(),
        tensors: vec![input.clone()],
    };
    let mut float_to_q: Vec<TensorId> = vec![0];
    for node in &graph.nodes {
        let operand = |k: usize| -> Result<TensorId, QuantizeError> {
            node.inputs
                .get(k)
                .and_then(|&t| float_to_q.get(t).copied())
                .ok_or_else(|| QuantizeError::Malformed {
                    node: node.name.clone(),
                    detail: format!("operand {k} missing"),
                })
        };
        let x = operand(0)?;
        let xt = b.tensor(x).clone();
        let id = match &node.op {
            Op::Linear {
                weight,
                bias,
                n_in,
                n_out,
            } => {
                check_finite(&format!("weights of `{}`", node.name), weight)?;
                check_finite(&format!("bias of `{}`", node.name), bias)?;
                if weight.len() != n_in * n_out || bias.len() != *n_out {
                    return Err(QuantizeError::Malformed {
                        node: node.name.clone(),
                        detail: "weight/bias size".into(),
                    });
                }
                let acc_scale = config.weight_scale + xt.scale;
                let qw = quantize_f32(weight, config.weight_scale);
                let qb = quantize_f32(bias, acc_scale);
                let mut bound: u128 = 0;
                for (row, bj) in qw.chunks_exact(*n_in).zip(&qb) {
                    let s: u128 = row.iter().map(|w| u128::from(w.unsigned_abs())).sum();
                    bound = bound.max(s * u128::from(xt.bound) + u128::from(bj.unsigned_abs()));
                }
                let acc = QTensor {
                    shape: node.shape.clone(),
                    scale: acc_scale,
                    bound: checked_bound(&node.name, bound)?,
                };
                let op = QOp::Linear {
                    weight: qw,
                    bias: qb,
                    n_in: *n_in,
                    n_out: *n_out,
                };
                let lin = b.push(node.name.clone(), op, vec![x], acc.clone());
                if acc_scale > config.scale {
                    let shift = acc_scale - config.scale;
                    let hi = crate::semantics::rescale(acc.bound as i64, shift).unsigned_abs();
                    let lo = crate::semantics::rescale(-(acc.bound as i64), shift).unsigned_abs();
                    let out = QTensor {
                        shape: node.shape.clone(),
                        scale: config.scale,
                        bound: hi.max(lo),
                    };
                    b.push(
                        format!("{}/rescale", node.name),
                        QOp::Rescale { shift },
                        vec![lin],
                        out,
                    )
                } else {
                    lin
                }
            }
            Op::Relu => b.push(
                node.name.clone(),
                QOp::Relu,
                vec![x],
                QTensor {
                    shape: node.shape.clone(),
                    ..xt
                },
            ),
            Op::Reshape => b.push(
                node.name.clone(),
                QOp::Reshape,
                vec![x],
                QTensor {
                    shape: node.shape.clone(),
                    ..xt
                },
            ),
            Op::AddConst { constant } => {
                check_finite(&format!("constant of `{}`", node.name), constant)?;
                let qc = quantize_f32(constant, xt.scale);
                let cmax = qc
                    .iter()
                    .map(|c| u128::from(c.unsigned_abs()))
                    .max()
                    .unwrap_or(0);
                let bound = checked_bound(&node.name, u128::from(xt.bound) + cmax)?;
                let op = QOp::Add {
                    coef_a: 1,
                    coef_b: 0,
                    constant: qc,
                };
                b.push(
                    node.name.clone(),
                    op,
                    vec![x],
                    QTensor {
                        shape: node.shape.clone(),
                        scale: xt.scale,
                        bound,
                    },
                )
            }
            Op::Add => {
                let y = operand(1)?;
                let yt = b.tensor(y).clone();
                let scale = xt.scale.max(yt.scale);
                let coef_a = 1i64 << (scale - xt.scale);
                let coef_b = 1i64 << (scale - yt.scale);
                let bound =
                    u128::from(xt.bound) * coef_a as u128 + u128::from(yt.bound) * coef_b as u128;
                let out = QTensor {
                    shape: node.shape.clone(),
                    scale,
                    bound: checked_bound(&node.name, bound)?,
                };
                b.push(
                    node.name.clone(),
                    QOp::Add {
                        coef_a,
                        coef_b,
                        constant: Vec::new(),
                    },
                    vec![x, y],
                    out,
                )
            }
        };
        float_to_q.push(id);
    }
    let output = float_to_q
        .get(graph.output)
        .copied()
        .ok_or_else(|| QuantizeError::Malformed {
            node: graph.output_name.clone(),
            detail: "output tensor missing".into(),
        })?;
    let weights_sha256 = {
        let ops: Vec<&QOp> = b.nodes.iter().map(|n| &n.op).collect();
        let bytes = serde_json::to_vec(&ops).unwrap_or_default();
        crate::artifact::hash_hex(&crate::artifact::sha256(&bytes))
    };
    let qgraph = QGraph {
        input_name: graph.input_name.clone(),
        input,
        nodes: b.nodes,
        output,
        output_name: graph.output_name.clone(),
        source_sha256: source_sha256.to_string(),
        weights_sha256,
    };
    Ok(Quantized {
        graph: qgraph,
        float_to_q,
    })
}

struct Builder {
    nodes: Vec<QNode>,
    tensors: Vec<QTensor>,
}

impl Builder {
    fn tensor(&self, id: TensorId) -> &QTensor {
        // Ids come from `push`, so they are always in range.
        &self.tensors[id]
    }

    fn push(&mut self, name: String, op: QOp, inputs: Vec<TensorId>, out: QTensor) -> TensorId {
        self.tensors.push(out.clone());
        self.nodes.push(QNode {
            name,
            op,
            inputs,
            out,
        });
        self.nodes.len()
    }
}

/// Accuracy of one float node's quantized counterpart.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeAccuracy {
    /// Float node name.
    pub name: String,
    /// Float op.
    pub op: String,
    /// Scale of the quantized tensor.
    pub scale: u32,
    /// Bits of its static bound.
    pub bound_bits: u32,
    /// Max |quantized - float| over the calibration rows.
    pub max_abs_error: f64,
}

/// Accuracy of the compiled model on the calibration set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccuracyReport {
    /// Per float node.
    pub nodes: Vec<NodeAccuracy>,
    /// Max abs error of the output.
    pub output_max_abs_error: f64,
    /// Rows where the argmax of the quantized output equals the float one (outputs with >1 value).
    pub argmax_agree: usize,
    /// Rows evaluated.
    pub rows: usize,
}

/// Measures the quantized model against the float graph on every calibration row.
pub fn accuracy(
    graph: &Graph,
    q: &Quantized,
    calibration: &[Vec<f64>],
) -> Result<AccuracyReport, QuantizeError> {
    let mut errs = vec![0.0f64; graph.nodes.len() + 1];
    let mut argmax_agree = 0;
    for row in calibration {
        let floats = graph.eval_f64(row);
        let qin = quantize_values(row, q.graph.input.scale);
        let trace = q.graph.eval(&qin)?;
        for (fid, (fvals, err)) in floats.iter().zip(errs.iter_mut()).enumerate() {
            let qid = q.float_to_q.get(fid).copied().unwrap_or(0);
            let (Some(qvals), Some(t)) = (trace.get(qid), q.graph.tensor(qid)) else {
                continue;
            };
            for (f, &qv) in fvals.iter().zip(qvals) {
                *err = err.max((dequantize(qv, t.scale) - f).abs());
            }
        }
        let fout = floats.get(graph.output).map(Vec::as_slice).unwrap_or(&[]);
        let qout = trace.get(q.graph.output).unwrap_or(&[]);
        if argmax(fout) == argmax_i(qout) {
            argmax_agree += 1;
        }
    }
    let nodes = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let qid = q.float_to_q.get(i + 1).copied().unwrap_or(0);
            let t = q.graph.tensor(qid);
            NodeAccuracy {
                name: n.name.clone(),
                op: n.op.kind().to_string(),
                scale: t.map_or(0, |t| t.scale),
                bound_bits: t.map_or(0, QTensor::bound_bits),
                max_abs_error: errs.get(i + 1).copied().unwrap_or(0.0),
            }
        })
        .collect();
    Ok(AccuracyReport {
        nodes,
        output_max_abs_error: errs.get(graph.output).copied().unwrap_or(0.0),
        argmax_agree,
        rows: calibration.len(),
    })
}

/// Index of the largest float (first on ties).
pub fn argmax(values: &[f64]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f64)>, (i, &v)| match best {
            Some((_, bv)) if bv >= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

/// Index of the largest integer (first on ties).
pub fn argmax_i(values: &[i64]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, i64)>, (i, &v)| match best {
            Some((_, bv)) if bv >= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}
