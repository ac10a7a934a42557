//! The op registry: one table mapping each ONNX op type and domain to the function that
//! imports it and the rule saying whether its output holds integers. It is also the list of
//! supported ops ([`supported_ops`]; the module docs are checked against it). Adding an op is
//! one function in its family's file under `ops/`, one row here and one test.

use super::error::ImportError;
use super::node::NodeCtx;
use super::ops::{
    activation, argmax, arith, conv, conv_transpose, index, integer, linear, logic, matmul, norm,
    qdq, recurrent, reduce, reshape, resize, rewire, scatter, spatial, split, topk, trees,
};
use super::state::{is_integer_type, Importer};
use crate::graph::ElementOp;
use crate::UnaryFn;

/// Imports one node into the float graph.
type ImportFn = for<'g> fn(&mut Importer<'g>, &NodeCtx<'g>) -> Result<(), ImportError>;

/// Whether a node's first output holds integers (integer `Div` truncates, so the importer
/// must know; see [`super::ops::arith`]).
#[derive(Clone, Copy)]
enum Ints {
    /// Never (a float result, whatever the inputs).
    No,
    /// Always (comparisons, logic, arg-max, shapes, quantized values).
    Yes,
    /// When every input is an integer.
    WhenAll,
    /// When the listed inputs are integers (the data inputs of data movement).
    When(&'static [usize]),
    /// Decided by the op's own rule (it may also mark outputs other than the first).
    Custom(for<'g> fn(&mut Importer<'g>, &NodeCtx<'g>) -> bool),
}

/// Which op types a row covers.
#[derive(Clone, Copy)]
enum Names {
    /// One op type.
    One(&'static str),
    /// Every parameter-free table function ([`UnaryFn::from_onnx`]).
    Unary,
    /// Every exact elementwise op ([`ElementOp::from_onnx`]).
    Element,
}

/// One row of the registry.
struct Row {
    /// The ONNX domain (`""` is the default `ai.onnx`).
    domain: &'static str,
    names: Names,
    import: ImportFn,
    ints: Ints,
}

const fn op(name: &'static str, import: ImportFn, ints: Ints) -> Row {
    Row {
        domain: "",
        names: Names::One(name),
        import,
        ints,
    }
}

const fn ml(name: &'static str, import: ImportFn) -> Row {
    Row {
        domain: "ai.onnx.ml",
        names: Names::One(name),
        import,
        ints: Ints::No,
    }
}

use Ints::{Custom, No, When, WhenAll, Yes};

/// The table. No op type appears twice (a test checks it), so order does not matter.
static ROWS: &[Row] = &[
    // Linear algebra.
    op("Gemm", linear::gemm, WhenAll),
    op("MatMul", matmul::matmul, WhenAll),
    // Arithmetic and table functions.
    op("Add", arith::binary, WhenAll),
    op("Sub", arith::binary, WhenAll),
    op("Mul", arith::binary, WhenAll),
    op("Div", arith::binary, WhenAll),
    Row {
        domain: "",
        names: Names::Unary,
        import: arith::unary,
        ints: Custom(rounding_is_integer),
    },
    Row {
        domain: "",
        names: Names::Element,
        import: arith::elementwise,
        ints: WhenAll,
    },
    op("Neg", arith::neg, WhenAll),
    op("BitShift", integer::bit_shift, WhenAll),
    op("Mod", integer::modulo, WhenAll),
    // Activations.
    op("Relu", reshape::relu, WhenAll),
    op("LeakyRelu", activation::leaky_relu, No),
    op("PRelu", activation::prelu, No),
    op("Shrink", activation::shrink, No),
    op("Clip", activation::clip, When(&[0])),
    op("HardSigmoid", activation::hard_sigmoid, No),
    op("HardSwish", activation::hard_sigmoid, No),
    op("Max", activation::variadic, WhenAll),
    op("Min", activation::variadic, WhenAll),
    op("Sum", activation::variadic, WhenAll),
    op("Mean", activation::variadic, No),
    op("Elu", activation::parametric, No),
    op("Selu", activation::parametric, No),
    op("Celu", activation::parametric, No),
    op("Gelu", activation::parametric, No),
    op("Pow", activation::pow, No),
    op("Dropout", activation::dropout, No),
    // Comparisons, logic, selection along an axis.
    op("Greater", logic::logic, Yes),
    op("Less", logic::logic, Yes),
    op("GreaterOrEqual", logic::logic, Yes),
    op("LessOrEqual", logic::logic, Yes),
    op("Equal", logic::logic, Yes),
    op("Not", logic::logic, Yes),
    op("And", logic::logic, Yes),
    op("Or", logic::logic, Yes),
    op("Xor", logic::logic, Yes),
    op("Where", logic::logic, When(&[1, 2])),
    op("Cast", logic::cast, Custom(cast_is_integer)),
    op("ArgMax", argmax::along_axis, Yes),
    op("ArgMin", argmax::along_axis, Yes),
    op("Hardmax", argmax::along_axis, No),
    op("LogSoftmax", argmax::along_axis, No),
    op("TopK", topk::top_k, Custom(top_k_is_integer)),
    // Reductions (axes are input 1 at newer opsets: only input 0 is data).
    op("ReduceSum", reduce::reduce, When(&[0])),
    op("ReduceMean", reduce::reduce, No),
    op("ReduceSumSquare", reduce::reduce, No),
    op("ReduceL1", reduce::reduce, No),
    op("ReduceL2", reduce::reduce, No),
    op("ReduceLogSumExp", reduce::reduce, No),
    op("ReduceMax", reduce::reduce, When(&[0])),
    op("ReduceMin", reduce::reduce, When(&[0])),
    op("ReduceProd", reduce::reduce, When(&[0])),
    // Convolutions, pooling, normalisation.
    op("Conv", conv::conv, No),
    op("ConvTranspose", conv_transpose::conv_transpose, No),
    op("AveragePool", conv::pool, No),
    op("MaxPool", conv::pool, No),
    op("GlobalAveragePool", conv::global_pool, No),
    op("GlobalMaxPool", conv::global_pool, No),
    op("LpPool", conv::lp_pool, No),
    op("BatchNormalization", conv::batch_norm, No),
    op("InstanceNormalization", spatial::instance_norm, No),
    op("Softmax", norm::softmax, No),
    op("LayerNormalization", norm::layer_norm, No),
    // Recurrent layers, unrolled.
    op("RNN", recurrent::recurrent, No),
    op("GRU", recurrent::recurrent, No),
    op("LSTM", recurrent::recurrent, No),
    // Indexing.
    op("Gather", index::gather, When(&[0])),
    op("GatherElements", index::gather_elements, When(&[0])),
    op("GatherND", index::gather_nd, When(&[0])),
    op("OneHot", index::one_hot, When(&[2])),
    op("ScatterElements", scatter::scatter, When(&[0, 2])),
    op("Scatter", scatter::scatter, When(&[0, 2])),
    op("ScatterND", scatter::scatter, When(&[0, 2])),
    // Data movement and shapes.
    op("Transpose", rewire::transpose, When(&[0])),
    op("Slice", rewire::slice, When(&[0])),
    op("Concat", rewire::concat, WhenAll),
    op("Expand", rewire::expand, When(&[0])),
    op("Shape", rewire::shape, Yes),
    op("Split", split::split, Custom(split_is_integer)),
    op("Identity", reshape::identity, When(&[0])),
    op("Flatten", reshape::reshape_like, When(&[0])),
    op("Reshape", reshape::reshape_like, When(&[0])),
    op("Squeeze", reshape::reshape_like, When(&[0])),
    op("Unsqueeze", reshape::reshape_like, When(&[0])),
    op("Constant", reshape::constant, No),
    op("Pad", spatial::pad, When(&[0])),
    op("Tile", spatial::tile, When(&[0])),
    op("Resize", resize::resize, When(&[0])),
    op("Upsample", resize::resize, When(&[0])),
    op("Trilu", spatial::trilu, When(&[0])),
    op("ConstantOfShape", spatial::constant_of_shape, No),
    op("Range", spatial::range, No),
    op("EyeLike", spatial::eye_like, No),
    // Quantized (QDQ) models.
    op("QuantizeLinear", qdq::qdq, Yes),
    op("DequantizeLinear", qdq::qdq, No),
    // ai.onnx.ml.
    ml("TreeEnsembleClassifier", trees::tree_ensemble),
    ml("TreeEnsembleRegressor", trees::tree_ensemble),
    ml("ZipMap", zip_map),
];

/// `Sign`, `Floor`, `Ceil` and `Round` of integers are integers; other table functions are not.
fn rounding_is_integer<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> bool {
    matches!(ctx.op(), "Sign" | "Floor" | "Ceil" | "Round") && imp.is_int(ctx, 0)
}

/// A cast to an integer type.
fn cast_is_integer<'g>(_: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> bool {
    ctx.attr_int("to", 1)
        .is_ok_and(|t| is_integer_type(t as i32))
}

/// TopK's indices always; its values when the input is integer.
fn top_k_is_integer<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> bool {
    if let Some(name) = ctx.proto.output.get(1) {
        imp.int_names.insert(name.as_str());
    }
    imp.is_int(ctx, 0)
}

/// Every part of an integer tensor.
fn split_is_integer<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> bool {
    if imp.is_int(ctx, 0) {
        for name in ctx.proto.output.iter().filter(|n| !n.is_empty()) {
            imp.int_names.insert(name.as_str());
        }
    }
    false
}

/// `ZipMap` is recognised only to say how to export without it.
fn zip_map<'g>(_: &mut Importer<'g>, ctx: &NodeCtx<'g>) -> Result<(), ImportError> {
    Err(ctx.unsupported(
        "it outputs a sequence of maps; export the classifier without it \
         (skl2onnx: options={'zipmap': False})",
    ))
}

impl Names {
    fn matches(self, op_type: &str) -> bool {
        match self {
            Names::One(name) => name == op_type,
            Names::Unary => UnaryFn::from_onnx(op_type).is_some(),
            Names::Element => ElementOp::from_onnx(op_type).is_some(),
        }
    }

    /// The op types this covers.
    fn expand(self) -> Vec<&'static str> {
        match self {
            Names::One(name) => vec![name],
            Names::Unary => UnaryFn::onnx_ops(),
            Names::Element => ElementOp::ALL.iter().map(|op| op.name()).collect(),
        }
    }
}

/// The row importing `op_type` in `domain` (`"ai.onnx"` is the default domain).
fn row(domain: &str, op_type: &str) -> Option<&'static Row> {
    let domain = if domain == "ai.onnx" { "" } else { domain };
    ROWS.iter()
        .find(|r| r.domain == domain && r.names.matches(op_type))
}

/// Every supported op as `(domain, op type)`, the default domain written `""`.
pub fn supported_ops() -> Vec<(&'static str, &'static str)> {
    ROWS.iter()
        .flat_map(|r| r.names.expand().into_iter().map(move |n| (r.domain, n)))
        .collect()
}

/// Imports one node: finds its row by domain and op type and runs its importer.
pub(super) fn import_node<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let domain = ctx.proto.domain.as_str();
    match row(domain, ctx.op()) {
        Some(r) => (r.import)(imp, ctx),
        None => Err(ImportError::UnsupportedOp {
            op_type: if domain.is_empty() || domain == "ai.onnx" {
                ctx.op().to_string()
            } else {
                format!("{domain}.{}", ctx.op())
            },
            node: ctx.name.clone(),
        }),
    }
}

/// Records which outputs of an imported node hold integers, by its row's rule.
pub(super) fn mark_integer_outputs<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) {
    let Some(r) = row(ctx.proto.domain.as_str(), ctx.op()) else {
        return;
    };
    let n = ctx.proto.input.len();
    let all_int =
        |imp: &Importer<'g>, ks: &[usize]| !ks.is_empty() && ks.iter().all(|&k| imp.is_int(ctx, k));
    let int = match r.ints {
        No => false,
        Yes => true,
        WhenAll => all_int(imp, &(0..n).collect::<Vec<_>>()),
        When(ks) => all_int(imp, ks),
        Custom(rule) => rule(imp, ctx),
    };
    if let Some(first) = ctx.proto.output.first().filter(|_| int) {
        imp.int_names.insert(first.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_op_type_is_registered_twice() {
        let mut all = supported_ops();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "an op type has two rows");
        assert!(n > 120, "only {n} ops registered");
    }
}
