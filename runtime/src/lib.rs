//! zkinfer runtime: executes a quantized graph with candle, on CPU or CUDA, and returns
//! the full trace, bit-identical to the reference semantics (`QGraph::eval`).
//!
//! Linear layers, convolutions and matmuls run in F64 only where the static bounds prove
//! every partial sum is an integer below 2^53; otherwise they take an exact i64 path.
//! Every other op works on I64 tensors, and every node's output is checked against its
//! static bound.
//!
//! ```
//! use zkinfer_ir::testkit::{graph, node, tensor};
//! use zkinfer_ir::QOp;
//!
//! let g = graph(tensor(3, 100), vec![node("relu", QOp::Relu, &[0], tensor(3, 100))]);
//! let x = [-16, 0, 40];
//! let trace = zkinfer_runtime::run(&g, &x, &zkinfer_runtime::cpu())?;
//! assert_eq!(trace, g.eval(&x)?); // bit-identical to the reference semantics
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod device;
mod error;
mod ops;
#[cfg(test)]
mod ops_tests;

pub use candle_core::Device;
pub use device::{available_devices, best_device, cpu, device_name, select_device, DeviceChoice};
pub use error::RuntimeError;

use candle_core::Tensor;
use zkinfer_ir::semantics::Trace;
use zkinfer_ir::QGraph;

use crate::error::AtNode;
use crate::ops::Operand;

/// Name used in errors raised while uploading the input.
const INPUT_NODE: &str = "<input>";

/// Executes every node of `graph` on `device` and returns every tensor (index = tensor id,
/// 0 = the input), exactly as `graph.eval(input)` does.
///
/// Stricter than `eval` on graphs it cannot execute exactly: a node whose static worst
/// case exceeds i64 is refused ([`RuntimeError::Overflow`]), and every output must hold
/// as many values as its declared shape ([`RuntimeError::Malformed`]).
pub fn run(graph: &QGraph, input: &[i64], device: &Device) -> Result<Trace, RuntimeError> {
    graph.check_input(input)?;
    let x = Tensor::from_slice(input, graph.input.shape.as_slice(), device).at(INPUT_NODE)?;
    let mut tensors = Vec::with_capacity(graph.nodes.len() + 1);
    let mut values = Vec::with_capacity(graph.nodes.len() + 1);
    tensors.push(x);
    values.push(input.to_vec());
    for node in &graph.nodes {
        let operands = node
            .inputs
            .iter()
            .map(|&id| {
                Some(Operand {
                    tensor: tensors.get(id)?,
                    desc: graph.tensor(id)?,
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| RuntimeError::Malformed {
                node: node.name.clone(),
                detail: format!(
                    "it reads tensors {:?}, but only ids below {} exist at this point",
                    node.inputs,
                    tensors.len()
                ),
            })?;
        let out = ops::apply(node, &operands, &graph.tables, device)?;
        let flat = out
            .flatten_all()
            .and_then(|t| t.to_vec1::<i64>())
            .at(&node.name)?;
        graph
            .check_output(node, &flat)
            .map_err(RuntimeError::Bound)?;
        tensors.push(out);
        values.push(flat);
    }
    Ok(Trace { tensors: values })
}
