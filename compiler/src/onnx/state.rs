//! The import state: what each ONNX name is bound to (a computed tensor or a constant), how
//! many readers each value has left, which names hold integers, and the float nodes emitted
//! so far. Every op importer reads and extends it; it imports no op.

use std::collections::HashMap;
use std::rc::Rc;

use super::error::ImportError;
use super::node::NodeCtx;
use super::proto::TensorProto;
use super::shape::{broadcast_shape, broadcast_to, checked_numel};
use super::tensor::{decode, Const};
use crate::graph::{Node, Op, TensorId};

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
    pub(super) input_shape: Vec<usize>,
    pub(super) values: HashMap<&'g str, Value>,
    pub(super) inits: HashMap<&'g str, &'g TensorProto>,
    /// How many node inputs (plus the graph output) read each ONNX name.
    pub(super) name_uses: HashMap<&'g str, usize>,
    /// How many remaining readers each tensor id has, over all names bound to it.
    pub(super) uses: Vec<usize>,
    /// Version of the default-domain opset the model was written for.
    pub opset: i64,
    /// ONNX element type of each `Constant` output (initializers carry theirs).
    pub const_types: HashMap<&'g str, i32>,
    /// Names known to hold integers or booleans (see `registry::mark_integer_outputs`).
    pub int_names: std::collections::HashSet<&'g str>,
    /// Names carrying an attention mask (see `mask.rs`), with the node or constant it
    /// comes from.
    pub masks: HashMap<&'g str, String>,
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
        Ok(self.push_graph_node(name, op, inputs, shape))
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

    /// Whether input `k` of the node holds integers: a name known to (`registry::mark_integer_outputs`),
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
        let mut c = decode(t, name)?;
        if let Some(masked) = super::tensor::substitute_masks(&c) {
            // An attention mask of -inf or finfo.min (see `mask.rs`).
            c = masked;
            self.masks.insert(name, name.to_string());
        }
        let v = Value::Const(Rc::new(c));
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

/// Whether an ONNX element type is an integer or boolean type.
pub(crate) fn is_integer_type(t: i32) -> bool {
    matches!(t, 2..=7 | 9 | 12 | 13)
}
