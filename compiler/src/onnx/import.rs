//! The import driver: graph inputs and outputs, initializers, then each node through the
//! registry ([`super::registry`]), in order.

use std::collections::HashMap;
use std::rc::Rc;

use super::error::ImportError;
use super::input_kinds;
use super::mask;
use super::node::NodeCtx;
use super::proto::tensor_shape_proto::dimension;
use super::proto::{type_proto, ModelProto, TensorProto, ValueInfoProto};
use super::registry::{import_node, mark_integer_outputs};
use super::shape::checked_numel;
pub(crate) use super::state::{is_integer_type, Importer, Value};
use super::tensor::{decode, Const};
use crate::graph::{Graph, IoPart, Op, TensorId};
use zkinfer_ir::NumberKind;

/// Converts a decoded ONNX model into a float [`Graph`].
pub(crate) fn import_model(model: &ModelProto) -> Result<Graph, ImportError> {
    let g = model.graph.as_ref().ok_or(ImportError::MissingGraph)?;
    let inits: HashMap<&str, &TensorProto> = g
        .initializer
        .iter()
        .filter(|t| !t.name.is_empty())
        .map(|t| (t.name.as_str(), t))
        .collect();
    let real: Vec<&ValueInfoProto> = g
        .input
        .iter()
        .filter(|v| !inits.contains_key(v.name.as_str()))
        .collect();
    if g.output.is_empty() {
        return Err(ImportError::NoOutput);
    }
    let mut inputs = Vec::with_capacity(real.len());
    for v in &real {
        let bad_input = |reason: String| ImportError::BadInput {
            name: v.name.clone(),
            reason,
        };
        let shape: Vec<usize> = declared_shape(v)
            .map_err(bad_input)?
            .ok_or_else(|| bad_input("has no shape".into()))?
            .into_iter()
            .map(|d| d.unwrap_or(1))
            .collect();
        if checked_numel(&shape).is_none() {
            return Err(bad_input(format!("shape {shape:?} is too large")));
        }
        inputs.push(IoPart {
            name: v.name.clone(),
            shape,
        });
    }
    // Several inputs are laid end to end in one flat input tensor.
    // A graph without inputs gets a one-element anchor (fixed to 0) for its constants.
    let input_shape = match inputs.as_slice() {
        [] => vec![1],
        [one] => one.shape.clone(),
        many => {
            let total = many
                .iter()
                .try_fold(0usize, |acc, p| acc.checked_add(p.numel()));
            vec![total.ok_or_else(|| ImportError::BadInput {
                name: many
                    .iter()
                    .map(|p| p.name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                reason: "the inputs together are too large".into(),
            })?]
        }
    };

    let mut name_uses: HashMap<&str, usize> = HashMap::new();
    let names = g
        .node
        .iter()
        .flat_map(|n| n.input.iter())
        .chain(g.output.iter().map(|o| &o.name));
    for name in names.filter(|s| !s.is_empty()) {
        *name_uses.entry(name.as_str()).or_default() += 1;
    }
    let mut imp = Importer {
        nodes: Vec::new(),
        input_shape: input_shape.clone(),
        values: HashMap::new(),
        inits,
        name_uses,
        uses: vec![0],
        opset: default_opset(model),
        const_types: HashMap::new(),
        int_names: std::collections::HashSet::new(),
        masks: HashMap::new(),
    };
    for v in &real {
        if elem_type(v).is_some_and(is_integer_type) {
            imp.int_names.insert(v.name.as_str());
        }
    }
    let kinds: Vec<NumberKind> = real
        .iter()
        .map(|v| input_kinds::kind_of(elem_type(v)))
        .collect();
    if let [one] = real.as_slice() {
        imp.bind(&one.name, Value::Tensor(0));
        input_kinds::check_input(&mut imp, &one.name, 0, &input_shape, elem_type(one));
    } else if real.len() > 1 {
        let mut offset = 0;
        for (v, part) in real.iter().zip(&inputs) {
            let index = (offset..offset + part.numel()).collect();
            offset += part.numel();
            let id = imp.push_graph_node(
                part.name.clone(),
                Op::Select { index },
                vec![0],
                part.shape.clone(),
            );
            imp.bind(&v.name, Value::Tensor(id));
            input_kinds::check_input(&mut imp, &part.name, id, &part.shape, elem_type(v));
        }
    }
    for (index, proto) in g.node.iter().enumerate() {
        let ctx = NodeCtx::new(proto, index);
        import_node(&mut imp, &ctx)?;
        mark_integer_outputs(&mut imp, &ctx);
        mask::after_node(&mut imp, &ctx)?;
    }

    let mut outputs = Vec::with_capacity(g.output.len());
    let mut out_ids = Vec::with_capacity(g.output.len());
    for output in &g.output {
        mask::check_output(&imp, &output.name)?;
        let id = output_tensor(&mut imp, output)?;
        outputs.push(IoPart {
            name: output.name.clone(),
            shape: imp.shape(id).to_vec(),
        });
        out_ids.push(id);
    }
    let out_id = match out_ids.as_slice() {
        // An output that is the input itself becomes an explicit copy, so the circuit
        // constrains it like any other output.
        [0] => {
            let index = (0..checked_numel(&input_shape).unwrap_or(0)).collect();
            let name = format!(
                "{}/copy",
                outputs.first().map_or("output", |o| o.name.as_str())
            );
            imp.push_graph_node(name, Op::Select { index }, vec![0], input_shape.clone())
        }
        [one] => *one,
        many => {
            // Several outputs are laid end to end in one flat output tensor.
            let total: usize = outputs.iter().map(IoPart::numel).sum();
            let index = (0..total).collect();
            imp.push_graph_node(
                "outputs".into(),
                Op::Select { index },
                many.to_vec(),
                vec![total],
            )
        }
    };
    let single = |parts: Vec<IoPart>| if parts.len() == 1 { Vec::new() } else { parts };
    let join = |parts: &[IoPart]| {
        parts
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let no_input = inputs.is_empty();
    Ok(Graph {
        input_name: if no_input {
            NO_INPUT_NAME.into()
        } else {
            join(&inputs)
        },
        input_shape,
        nodes: imp.nodes,
        output: out_id,
        output_name: join(&outputs),
        input_parts: single(inputs),
        output_parts: single(outputs),
        no_input,
        input_kinds: if kinds.iter().all(NumberKind::is_real) {
            Vec::new()
        } else {
            kinds
        },
    })
}

/// The name a graph without inputs gives its anchor input in reports and errors.
pub const NO_INPUT_NAME: &str = "(no input)";

/// A constant graph output (computed from shapes, or an initializer) as a tensor: a `Linear`
/// with zero weights and the constant as its bias, reading one input element, so the proof
/// binds it like any other output.
fn constant_output(imp: &mut Importer<'_>, name: &str, c: &Const) -> Result<TensorId, ImportError> {
    let bias = c.to_f32();
    if bias.is_empty() {
        return Err(ImportError::BadOutput {
            name: name.to_string(),
            reason: "is an empty constant".into(),
        });
    }
    let n = bias.len();
    let one = imp.push_graph_node(
        format!("{name}/anchor"),
        Op::Select { index: vec![0] },
        vec![0],
        vec![1],
    );
    let op = Op::Linear {
        weight: vec![0.0; n],
        bias,
        n_in: 1,
        n_out: n,
    };
    let dims = if c.dims.is_empty() {
        vec![1]
    } else {
        c.dims.clone()
    };
    let lin = imp.push_graph_node(format!("{name}/constant"), op, vec![one], vec![n]);
    Ok(imp.push_graph_node(name.to_string(), Op::Reshape, vec![lin], dims))
}

/// The tensor a graph output names, checked against its declared shape.
fn output_tensor(imp: &mut Importer<'_>, output: &ValueInfoProto) -> Result<TensorId, ImportError> {
    let bad_output = |reason: &str| ImportError::BadOutput {
        name: output.name.clone(),
        reason: reason.to_string(),
    };
    let out_id = match imp.values.get(output.name.as_str()) {
        Some(Value::Tensor(t)) => *t,
        Some(Value::Const(c)) => {
            let c = Rc::clone(c);
            constant_output(imp, &output.name, &c)?
        }
        None if imp.inits.contains_key(output.name.as_str()) => {
            let c = decode(imp.inits[output.name.as_str()], &output.name)?;
            constant_output(imp, &output.name, &c)?
        }
        None => return Err(bad_output("is not produced by any node")),
    };
    if let Ok(Some(declared)) = declared_shape(output) {
        let computed = imp.shape(out_id);
        let fits = |(d, c): (&Option<usize>, &usize)| d.is_none_or(|d| d == *c);
        if declared.len() != computed.len() || !declared.iter().zip(computed).all(fits) {
            let declared: Vec<String> = declared
                .iter()
                .map(|d| d.map_or("?".into(), |d| d.to_string()))
                .collect();
            let reason = format!(
                "declared shape [{}] but import computed {computed:?}",
                declared.join(", ")
            );
            return Err(ImportError::BadOutput {
                name: output.name.clone(),
                reason,
            });
        }
    }
    Ok(out_id)
}

/// Version of the default (`""` or `ai.onnx`) opset; the current one when none is declared.
fn default_opset(model: &ModelProto) -> i64 {
    model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(super::encode::OPSET, |o| o.version)
}

/// ONNX element type of a tensor value info.
fn elem_type(v: &ValueInfoProto) -> Option<i32> {
    match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) => Some(t.elem_type),
        _ => None,
    }
}

/// Shape declared by a graph input/output (`None` for a symbolic dim), `None` if it has none.
fn declared_shape(v: &ValueInfoProto) -> Result<Option<Vec<Option<usize>>>, String> {
    let Some(type_proto::Value::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return Err("is not a tensor".into());
    };
    // Floating-point, integer and boolean values are all numbers to the importer (integers and
    // booleans are exact at every scale); strings and complex numbers are not.
    if [8, 14, 15].contains(&t.elem_type) || !(0..=16).contains(&t.elem_type) {
        return Err(format!(
            "element type {} is not a number type (strings and complex numbers are not supported)",
            t.elem_type
        ));
    }
    let Some(shape) = t.shape.as_ref() else {
        return Ok(None);
    };
    let mut dims = Vec::with_capacity(shape.dim.len());
    for d in &shape.dim {
        dims.push(match d.value {
            Some(dimension::Value::DimValue(n)) if n < 0 => {
                return Err(format!("negative dimension {n}"))
            }
            Some(dimension::Value::DimValue(n)) if n > 0 => {
                Some(usize::try_from(n).map_err(|_| format!("dimension {n} is too large"))?)
            }
            _ => None,
        });
    }
    Ok(Some(dims))
}
