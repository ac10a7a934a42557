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
                if *n_in == 0 || weight.len() != n_in * n_out || bias.len() != *n_out {
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
            op @ (Op::Conv { .. }
            | Op::AvgPool { .. }
            | Op::MaxPool { .. }
            | Op::MulConst { .. }
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Unary { .. }
            | Op::MatMul { .. }
            | Op::Softmax { .. }
            | Op::LayerNorm { .. }
            | Op::Select { .. }) => {
                return Err(QuantizeError::Malformed {
                    node: node.name.clone(),
                    detail: format!("{} is not quantized yet", op.kind()),
                })
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
        tables: Vec::new(),
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
        if argmax(fout) == argmax(qout) {
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

/// Index of the largest value (first on ties); `None` when empty.
pub fn argmax<T: PartialOrd + Copy>(values: &[T]) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (i, &v) in values.iter().enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::graph::Node;

    fn mlp(seed: u64) -> Graph {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut linear = |n_in: usize, n_out: usize| Op::Linear {
            weight: (0..n_in * n_out)
                .map(|_| rng.gen_range(-1.0f32..1.0))
                .collect(),
            bias: (0..n_out).map(|_| rng.gen_range(-1.0f32..1.0)).collect(),
            n_in,
            n_out,
        };
        let nodes = vec![
            Node {
                name: "fc1".into(),
                op: linear(6, 5),
                inputs: vec![0],
                shape: vec![1, 5],
            },
            Node {
                name: "relu".into(),
                op: Op::Relu,
                inputs: vec![1],
                shape: vec![1, 5],
            },
            Node {
                name: "fc2".into(),
                op: linear(5, 3),
                inputs: vec![2],
                shape: vec![1, 3],
            },
        ];
        Graph {
            input_name: "x".into(),
            input_shape: vec![1, 6],
            nodes,
            output: 3,
            output_name: "y".into(),
        }
    }

    #[test]
    fn linear_layers_get_a_rescale_and_sound_bounds() {
        let g = mlp(1);
        let calib = vec![vec![0.5; 6], vec![-1.0; 6]];
        let q = quantize(&g, &calib, QuantizeConfig::default(), "src").expect("quantize");
        let kinds: Vec<_> = q.graph.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(kinds, ["Linear", "Rescale", "Relu", "Linear", "Rescale"]);
        assert_eq!(
            q.graph.input.bound,
            1 << 14,
            "calibrated 1.0 at scale 13, one headroom bit"
        );
        assert_eq!(q.float_to_q, vec![0, 2, 3, 5]);
        assert!(matches!(q.graph.nodes[1].op, QOp::Rescale { shift: 16 }));
        // Every input inside the compiled range evaluates within every static bound.
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..200 {
            let b = q.graph.input.bound as i64;
            let x: Vec<i64> = (0..6).map(|_| rng.gen_range(-b..=b)).collect();
            q.graph.eval(&x).expect("bounds hold");
        }
        let report = accuracy(&g, &q, &calib).expect("accuracy");
        assert!(report.output_max_abs_error < 1e-3, "{report:?}");
        assert_eq!(report.rows, 2);
    }

    #[test]
    fn bad_settings_and_calibration_are_named() {
        let g = mlp(3);
        let cfg = QuantizeConfig::default();
        assert!(matches!(
            quantize(&g, &[], cfg, ""),
            Err(QuantizeError::EmptyCalibration)
        ));
        let short = quantize(&g, &[vec![0.0; 5]], cfg, "").expect_err("short row");
        assert!(short.to_string().contains("needs 6"), "{short}");
        let nan = quantize(&g, &[vec![f64::NAN; 6]], cfg, "").expect_err("nan");
        assert!(nan.to_string().contains("calibration row 0"), "{nan}");
        let bad = QuantizeConfig { scale: 40, ..cfg };
        assert!(matches!(
            quantize(&g, &[vec![0.0; 6]], bad, ""),
            Err(QuantizeError::BadSetting { .. })
        ));
        let huge = quantize(
            &g,
            &[vec![1e12; 6]],
            QuantizeConfig {
                scale: 24,
                weight_scale: 24,
                headroom_bits: 1,
            },
            "",
        );
        assert!(
            matches!(huge, Err(QuantizeError::Overflow { .. })),
            "{huge:?}"
        );
    }

    #[test]
    fn empty_linear_is_an_error_not_a_panic() {
        let nodes = vec![Node {
            name: "fc".into(),
            op: Op::Linear {
                weight: vec![],
                bias: vec![],
                n_in: 0,
                n_out: 0,
            },
            inputs: vec![0],
            shape: vec![1, 0],
        }];
        let g = Graph {
            input_name: "x".into(),
            input_shape: vec![1, 2],
            nodes,
            output: 1,
            output_name: "y".into(),
        };
        let err =
            quantize(&g, &[vec![0.0; 2]], QuantizeConfig::default(), "").expect_err("n_in = 0");
        assert!(matches!(err, QuantizeError::Malformed { .. }), "{err}");
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, -1.0]), Some(1));
        assert_eq!(argmax::<i64>(&[]), None);
        assert_eq!(argmax(&[-5i64, -2, -9]), Some(1));
    }
}
