//! Accuracy of a compiled model against the float graph, per node.

use serde::{Deserialize, Serialize};

use super::Quantized;
use crate::error::QuantizeError;
use crate::graph::Graph;
use crate::input::{dequantize, quantize_values};
use crate::qgraph::QTensor;

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
