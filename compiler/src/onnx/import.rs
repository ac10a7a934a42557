//! The import driver: graph input/output handling, name binding and op dispatch.

use std::collections::HashMap;
use std::rc::Rc;

use super::error::ImportError;
use super::node::NodeCtx;
use super::proto::tensor_shape_proto::dimension;
use super::proto::{type_proto, ModelProto, TensorProto, ValueInfoProto};
use super::shape::{broadcast_shape, broadcast_to, checked_numel};
use super::tensor::{decode, Const};
use super::{
    activation, arith, conv, conv_transpose, index, integer, linear, logic, matmul, norm, reduce,
};
use super::{input_kinds, qdq, recurrent, reshape, rewire, scatter, spatial, split, topk, trees};
use crate::graph::{ElementOp, Graph, IoPart, Node, Op, TensorId, UnaryFn};
use zkinfer_ir::NumberKind;

/// What an ONNX value name refers to during import.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// A tensor computed from the graph input.
    Tensor(TensorId),
    /// A constant known at import time.
    Const(Rc<Const>),
}

/// Import state: the nodes emitted so far and what each ONNX name is bound to.
#[derive(Debug)]
pub(crate) struct Importer<'g> {
    /// Emitted nodes; node `i` produces tensor `i + 1`.
    pub nodes: Vec<Node>,
    input_shape: Vec<usize>,
    values: HashMap<&'g str, Value>,
    inits: HashMap<&'g str, &'g TensorProto>,
    /// How many node inputs (plus the graph output) read each ONNX name.
    name_uses: HashMap<&'g str, usize>,
    /// How many remaining readers each tensor id has, over all names bound to it.
    uses: Vec<usize>,
    /// Version of the default-domain opset the model was written for.
    pub opset: i64,
    /// ONNX element type of each `Constant` output (initializers carry theirs).
    pub const_types: HashMap<&'g str, i32>,
    /// Names known to hold integers or booleans (see [`mark_integer_outputs`]).
    pub int_names: std::collections::HashSet<&'g str>,
}

impl<'g> Importer<'g> {
    /// Shape of tensor `id`.
    pub fn shape(&self, id: TensorId) -> &[usize] {
        match id.checked_sub(1) {
            None => &self.input_shape,
            Some(i) => self.nodes.get(i).map_or(&[], |n| n.shape.as_slice()),
        }
    }

    /// Number of readers of tensor `id` (over every name bound to it).
    pub fn uses(&self, id: TensorId) -> usize {
        self.uses.get(id).copied().unwrap_or(0)
    }

    /// Appends a node and returns the tensor id it produces.
    pub fn push(
        &mut self,
        ctx: &NodeCtx<'_>,
        name: String,
        op: Op,
        inputs: Vec<TensorId>,
        shape: Vec<usize>,
    ) -> Result<TensorId, ImportError> {
        if checked_numel(&shape).is_none() {
            return Err(ctx.shape_err(format!("output shape {shape:?} is too large")));
        }
        self.nodes.push(Node {
            name,
            op,
            inputs,
            shape,
            trained: false,
        });
        self.uses.push(0);
        Ok(self.nodes.len())
    }

    /// [`Importer::push`] of a node whose constants are the model's trained weights (advice
    /// under private parameter visibility; see [`Node::trained`]).
    pub fn push_trained(
        &mut self,
        ctx: &NodeCtx<'_>,
        name: String,
        op: Op,
        inputs: Vec<TensorId>,
        shape: Vec<usize>,
    ) -> Result<TensorId, ImportError> {
        let id = self.push(ctx, name, op, inputs, shape)?;
        self.mark_trained(id);
        Ok(id)
    }

    /// Marks the constants of the node producing tensor `id` as trained weights.
    pub fn mark_trained(&mut self, id: TensorId) {
        if let Some(n) = id.checked_sub(1).and_then(|i| self.nodes.get_mut(i)) {
            n.trained = true;
        }
    }

    /// Marks as trained the nodes pushed since node count `start` that carry `ctx`'s own name
    /// (not its `name/part` helpers).
    pub fn mark_own_trained_since(&mut self, ctx: &NodeCtx<'_>, start: usize) {
        for n in self.nodes.iter_mut().skip(start) {
            if n.name == ctx.name {
                n.trained = true;
            }
        }
    }

    /// Whether ONNX name `name` is an initializer (a stored tensor of the model).
    pub fn is_initializer(&self, name: &str) -> bool {
        self.inits.contains_key(name)
    }

    /// Appends a node of the graph's interface (an input part, the joined outputs), which
    /// belongs to no ONNX node.
    pub(super) fn push_graph_node(
        &mut self,
        name: String,
        op: Op,
        inputs: Vec<TensorId>,
        shape: Vec<usize>,
    ) -> TensorId {
        self.nodes.push(Node {
            name,
            op,
            inputs,
            shape,
            trained: false,
        });
        self.uses.push(0);
        self.nodes.len()
    }

    /// The node producing tensor `t` (`None` for the graph input).
    pub fn node_mut(&mut self, t: TensorId) -> Option<&mut Node> {
        t.checked_sub(1).and_then(|i| self.nodes.get_mut(i))
    }

    /// Rejects a node whose outputs after the first are read by a later node or the graph output.
    pub fn check_extra_outputs(&self, ctx: &NodeCtx<'_>) -> Result<(), ImportError> {
        for (k, name) in ctx.proto.output.iter().enumerate().skip(1) {
            if self.name_uses.get(name.as_str()).copied().unwrap_or(0) > 0 {
                return Err(ctx.unsupported(format!(
                    "output #{k} `{name}` is read, but only the first output is supported"
                )));
            }
        }
        Ok(())
    }

    /// Tensor `t` brought to shape `to`: itself when the shape matches, a `Reshape` when only
    /// unit axes differ, else a `Select` materializing the numpy broadcast (named `node/label`).
    pub fn broadcast_tensor(
        &mut self,
        ctx: &NodeCtx<'_>,
        t: TensorId,
        to: &[usize],
        label: &str,
    ) -> Result<TensorId, ImportError> {
        let from = self.shape(t).to_vec();
        if from == to {
            return Ok(t);
        }
        let name = format!("{}/{label}", ctx.name);
        let bad = || ctx.shape_err(format!("{from:?} does not broadcast to {to:?}"));
        if broadcast_shape(&from, to).as_deref() != Some(to) {
            return Err(bad());
        }
        if checked_numel(&from) == checked_numel(to) {
            return self.push(ctx, name, Op::Reshape, vec![t], to.to_vec());
        }
        let iota: Vec<usize> = (0..checked_numel(&from).ok_or_else(bad)?).collect();
        let index = broadcast_to(&iota, &from, to).ok_or_else(bad)?;
        self.push(ctx, name, Op::Select { index }, vec![t], to.to_vec())
    }

    /// Binds ONNX name `name` to `value`.
    pub fn bind(&mut self, name: &'g str, value: Value) {
        if let Value::Tensor(t) = value {
            let n = self.name_uses.get(name).copied().unwrap_or(0);
            if let Some(u) = self.uses.get_mut(t) {
                *u += n;
            }
        }
        self.values.insert(name, value);
    }

    /// Binds `name` to tensor `t`, which a pass-through node (Identity, a folded Add) just read.
    pub fn alias(&mut self, name: &'g str, t: TensorId) {
        if let Some(u) = self.uses.get_mut(t) {
            *u = u.saturating_sub(1);
        }
        self.bind(name, Value::Tensor(t));
    }

    /// Whether input `k` of the node holds integers: a name known to ([`mark_integer_outputs`]),
    /// or an integer constant.
    pub fn is_int(&self, ctx: &NodeCtx<'_>, k: usize) -> bool {
        let Some(name) = ctx.input_name(k).filter(|n| !n.is_empty()) else {
            return false;
        };
        if self.int_names.contains(name) {
            return true;
        }
        if let Some(t) = self.const_type(name) {
            return is_integer_type(t);
        }
        matches!(self.values.get(name), Some(Value::Const(c)) if matches!(c.data, super::tensor::ConstData::I64(_)))
    }

    /// ONNX element type of constant `name` (an initializer or a `Constant` output).
    pub fn const_type(&self, name: &str) -> Option<i32> {
        self.inits
            .get(name)
            .map(|t| t.data_type)
            .or_else(|| self.const_types.get(name).copied())
    }

    /// Looks up an ONNX name (decoding an initializer on first use).
    fn lookup(&mut self, ctx: &NodeCtx<'_>, name: &'g str) -> Result<Value, ImportError> {
        if let Some(v) = self.values.get(name) {
            return Ok(v.clone());
        }
        let t = self.inits.get(name).ok_or_else(|| ctx.missing(name))?;
        let v = Value::Const(Rc::new(decode(t, name)?));
        self.values.insert(name, v.clone());
        Ok(v)
    }

    /// Optional input `k` (absent or empty name gives `None`).
    pub fn input_opt(&mut self, ctx: &NodeCtx<'g>, k: usize) -> Result<Option<Value>, ImportError> {
        match ctx.input_name(k) {
            None => Ok(None),
            Some(name) => self.lookup(ctx, name).map(Some),
        }
    }

    /// Required input `k`.
    pub fn input(&mut self, ctx: &NodeCtx<'g>, k: usize) -> Result<Value, ImportError> {
        self.input_opt(ctx, k)?
            .ok_or_else(|| ctx.bad_node(format!("input #{k} is missing")))
    }

    /// Required input `k`, which must be a constant.
    pub fn const_input(&mut self, ctx: &NodeCtx<'g>, k: usize) -> Result<Rc<Const>, ImportError> {
        match self.input(ctx, k)? {
            Value::Const(c) => Ok(c),
            Value::Tensor(_) => Err(ctx.not_constant(ctx.input_name(k).unwrap_or_default())),
        }
    }
}

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
    }

    let mut outputs = Vec::with_capacity(g.output.len());
    let mut out_ids = Vec::with_capacity(g.output.len());
    for output in &g.output {
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

/// Whether an ONNX element type is an integer or boolean type.
pub(crate) fn is_integer_type(t: i32) -> bool {
    matches!(t, 2..=7 | 9 | 12 | 13)
}

/// Records which outputs of a node hold integers: those of ops that make integers (Cast to an
/// integer type, comparisons and logic, ArgMax/ArgMin, Shape, TopK's indices), and those of
/// arithmetic and data movement whose data inputs are all integers. Integer `Div` truncates,
/// so the importer must know (see [`super::arith`]).
fn mark_integer_outputs<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) {
    let outs = &ctx.proto.output;
    let first: Option<&'g str> = outs.first().map(String::as_str);
    let all_int =
        |imp: &Importer<'g>, ks: &[usize]| !ks.is_empty() && ks.iter().all(|&k| imp.is_int(ctx, k));
    let n = ctx.proto.input.len();
    let int = match ctx.op() {
        "Cast" => ctx
            .attr_int("to", 1)
            .is_ok_and(|t| is_integer_type(t as i32)),
        "Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual" | "Not" | "And" | "Or"
        | "Xor" | "ArgMax" | "ArgMin" | "Shape" | "Size" | "QuantizeLinear" => true,
        "MatMul" | "Gemm" => all_int(imp, &(0..n).collect::<Vec<_>>()),
        "OneHot" => all_int(imp, &[2]),
        "Split" => {
            if imp.is_int(ctx, 0) {
                for name in outs.iter().filter(|n| !n.is_empty()) {
                    imp.int_names.insert(name.as_str());
                }
            }
            false
        }
        "TopK" => {
            if let Some(name) = outs.get(1) {
                imp.int_names.insert(name.as_str());
            }
            imp.is_int(ctx, 0)
        }
        "Add" | "Sub" | "Mul" | "Div" | "Neg" | "Abs" | "Relu" | "Max" | "Min" | "Sum" | "Mod"
        | "BitShift" | "Sign" | "Floor" | "Ceil" | "Round" | "ReduceSum" | "ReduceMax"
        | "ReduceMin" | "ReduceProd" => {
            // Reductions read their axes from input 1 at newer opsets.
            let data = if ctx.op().starts_with("Reduce") { 1 } else { n };
            all_int(imp, &(0..data).collect::<Vec<_>>())
        }
        "Clip" => all_int(imp, &[0]),
        "Where" => all_int(imp, &[1, 2]),
        "Identity" | "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" | "Transpose" | "Slice"
        | "Expand" | "Tile" | "Pad" | "Gather" | "GatherElements" | "GatherND" | "Resize"
        | "Trilu" => all_int(imp, &[0]),
        "ScatterElements" | "Scatter" | "ScatterND" => all_int(imp, &[0, 2]),
        "Concat" => all_int(imp, &(0..n).collect::<Vec<_>>()),
        _ => false,
    };
    if int {
        if let Some(name) = first {
            imp.int_names.insert(name);
        }
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

/// Imports one node: checks its domain and dispatches on the op type.
fn import_node<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    let domain = ctx.proto.domain.as_str();
    if domain == "ai.onnx.ml" {
        return match ctx.op() {
            "TreeEnsembleClassifier" | "TreeEnsembleRegressor" => trees::tree_ensemble(imp, ctx),
            "ZipMap" => Err(ctx.unsupported(
                "it outputs a sequence of maps; export the classifier without it \
                 (skl2onnx: options={'zipmap': False})",
            )),
            _ => Err(ImportError::UnsupportedOp {
                op_type: format!("{domain}.{}", ctx.op()),
                node: ctx.name.clone(),
            }),
        };
    }
    if !domain.is_empty() && domain != "ai.onnx" {
        return Err(ImportError::UnsupportedOp {
            op_type: format!("{domain}.{}", ctx.op()),
            node: ctx.name.clone(),
        });
    }
    match ctx.op() {
        "Gemm" => linear::gemm(imp, ctx),
        "MatMul" => matmul::matmul(imp, ctx),
        "Add" | "Sub" | "Mul" | "Div" => arith::binary(imp, ctx),
        op if UnaryFn::from_onnx(op).is_some() => arith::unary(imp, ctx),
        "Neg" => arith::neg(imp, ctx),
        op if ElementOp::from_onnx(op).is_some() => arith::elementwise(imp, ctx),
        "Relu" => reshape::relu(imp, ctx),
        "Greater" | "Less" | "GreaterOrEqual" | "LessOrEqual" | "Equal" | "Not" | "And" | "Or"
        | "Xor" | "Where" => logic::logic(imp, ctx),
        "ArgMax" | "ArgMin" | "Hardmax" | "LogSoftmax" => logic::along_axis(imp, ctx),
        "Cast" => logic::cast(imp, ctx),
        "LeakyRelu" => activation::leaky_relu(imp, ctx),
        "PRelu" => activation::prelu(imp, ctx),
        "Clip" => activation::clip(imp, ctx),
        "HardSigmoid" | "HardSwish" => activation::hard_sigmoid(imp, ctx),
        "Max" | "Min" | "Sum" | "Mean" => activation::variadic(imp, ctx),
        "Elu" | "Selu" | "Celu" | "Gelu" => activation::parametric(imp, ctx),
        "Pow" => activation::pow(imp, ctx),
        "Dropout" => activation::dropout(imp, ctx),
        "ReduceSum" | "ReduceMean" | "ReduceSumSquare" | "ReduceL1" | "ReduceL2"
        | "ReduceLogSumExp" | "ReduceMax" | "ReduceMin" | "ReduceProd" => reduce::reduce(imp, ctx),
        "Conv" => conv::conv(imp, ctx),
        "AveragePool" | "MaxPool" => conv::pool(imp, ctx),
        "GlobalAveragePool" | "GlobalMaxPool" => conv::global_pool(imp, ctx),
        "BatchNormalization" => conv::batch_norm(imp, ctx),
        "Softmax" => norm::softmax(imp, ctx),
        "LayerNormalization" => norm::layer_norm(imp, ctx),
        "RNN" | "GRU" | "LSTM" => recurrent::recurrent(imp, ctx),
        "Transpose" => rewire::transpose(imp, ctx),
        "Slice" => rewire::slice(imp, ctx),
        "Split" => split::split(imp, ctx),
        "Gather" => rewire::gather(imp, ctx),
        "GatherElements" => index::gather_elements(imp, ctx),
        "GatherND" => index::gather_nd(imp, ctx),
        "ScatterElements" | "Scatter" | "ScatterND" => scatter::scatter(imp, ctx),
        "OneHot" => index::one_hot(imp, ctx),
        "TopK" => topk::top_k(imp, ctx),
        "BitShift" => integer::bit_shift(imp, ctx),
        "Mod" => integer::modulo(imp, ctx),
        "Concat" => rewire::concat(imp, ctx),
        "Expand" => rewire::expand(imp, ctx),
        "Shape" => rewire::shape(imp, ctx),
        "Constant" => reshape::constant(imp, ctx),
        "Pad" => spatial::pad(imp, ctx),
        "Tile" => spatial::tile(imp, ctx),
        "Resize" | "Upsample" => spatial::resize(imp, ctx),
        "Trilu" => spatial::trilu(imp, ctx),
        "InstanceNormalization" => spatial::instance_norm(imp, ctx),
        "ConstantOfShape" => spatial::constant_of_shape(imp, ctx),
        "Range" => spatial::range(imp, ctx),
        "EyeLike" => spatial::eye_like(imp, ctx),
        "ConvTranspose" => conv_transpose::conv_transpose(imp, ctx),
        "LpPool" => conv::lp_pool(imp, ctx),
        "QuantizeLinear" | "DequantizeLinear" => qdq::qdq(imp, ctx),
        "Identity" => reshape::identity(imp, ctx),
        "Flatten" | "Reshape" | "Squeeze" | "Unsqueeze" => reshape::reshape_like(imp, ctx),
        other => Err(ImportError::UnsupportedOp {
            op_type: other.to_string(),
            node: ctx.name.clone(),
        }),
    }
}
