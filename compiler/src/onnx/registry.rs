//! The op registry: for each ONNX op type and domain, the function that imports it and the
//! rule saying which of its outputs hold integers. Adding an op is one function in its
//! family's file, one arm here and one test.

use super::error::ImportError;
use super::node::NodeCtx;
use super::state::{is_integer_type, Importer};
use super::{
    activation, argmax, arith, conv, conv_transpose, index, integer, linear, logic, matmul, norm,
    reduce,
};
use super::{qdq, recurrent, reshape, resize, rewire, scatter, spatial, split, topk, trees};
use crate::graph::{ElementOp, UnaryFn};

/// Records which outputs of a node hold integers: those of ops that make integers (Cast to an
/// integer type, comparisons and logic, ArgMax/ArgMin, Shape, TopK's indices), and those of
/// arithmetic and data movement whose data inputs are all integers. Integer `Div` truncates,
/// so the importer must know (see [`super::arith`]).
pub(super) fn mark_integer_outputs<'g>(imp: &mut Importer<'g>, ctx: &NodeCtx<'g>) {
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

/// Imports one node: checks its domain and dispatches on the op type.
pub(super) fn import_node<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
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
        "ArgMax" | "ArgMin" | "Hardmax" | "LogSoftmax" => argmax::along_axis(imp, ctx),
        "Cast" => logic::cast(imp, ctx),
        "LeakyRelu" => activation::leaky_relu(imp, ctx),
        "PRelu" => activation::prelu(imp, ctx),
        "Shrink" => activation::shrink(imp, ctx),
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
        "Gather" => index::gather(imp, ctx),
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
        "Resize" | "Upsample" => resize::resize(imp, ctx),
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
