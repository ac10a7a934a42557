//! Conv, pools and BatchNormalization: shapes and hand-computed values.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::util::*;
use zkinfer_compiler::graph::Op;
use zkinfer_compiler::onnx::encode::*;

/// `1, 2, ..., n` as floats.
fn one_to(n: usize) -> Vec<f64> {
    (1..=n).map(|i| i as f64).collect()
}

#[test]
fn conv_with_bias() {
    // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,0],[0,1]]: each output sums a diagonal pair.
    let w = float_tensor("w", &[1, 1, 2, 2], &[1., 0., 0., 1.]);
    let b = float_tensor("b", &[1], &[10.]);
    let conv = node("Conv", "/c/Conv", &["x", "w", "b"], &["y"], vec![]);
    let g = import(vec![conv], vec![w, b], &[1, 1, 3, 3]);
    assert_eq!(kinds(&g), ["Conv"]);
    assert_eq!(g.nodes[0].name, "/c/Conv");
    assert_eq!(out_shape(&g), [1, 1, 2, 2]);
    assert_close(&run(&g, &one_to(9)), &[16., 18., 22., 24.]);
}

#[test]
fn conv_padding_and_stride() {
    // 3x3 box filter, pads 1, stride 2: the four corner 2x2 blocks of x.
    let w = float_tensor("w", &[1, 1, 3, 3], &[1.; 9]);
    let attrs = vec![
        attr_ints("pads", &[1, 1, 1, 1]),
        attr_ints("strides", &[2, 2]),
        attr_ints("kernel_shape", &[3, 3]),
    ];
    let conv = node("Conv", "c", &["x", "w"], &["y"], attrs);
    let g = import(vec![conv], vec![w], &[1, 1, 3, 3]);
    assert_eq!(out_shape(&g), [1, 1, 2, 2]);
    assert_close(&run(&g, &one_to(9)), &[12., 16., 24., 28.]);
}

#[test]
fn conv_asymmetric_pads_and_stride() {
    // pads [top=1, left=0, bottom=0, right=1], kernel 2x2 ones, stride [1, 2] on 1..9.
    // Padded rows: [0 0 0 0], [1 2 3 0], [4 5 6 0], [7 8 9 0]; out 3x2.
    let w = float_tensor("w", &[1, 1, 2, 2], &[1.; 4]);
    let attrs = vec![
        attr_ints("pads", &[1, 0, 0, 1]),
        attr_ints("strides", &[1, 2]),
    ];
    let conv = node("Conv", "c", &["x", "w"], &["y"], attrs);
    let g = import(vec![conv], vec![w], &[1, 1, 3, 3]);
    assert_eq!(out_shape(&g), [1, 1, 3, 2]);
    assert_close(&run(&g, &one_to(9)), &[3., 3., 12., 9., 24., 15.]);
}

#[test]
fn conv_dilation() {
    // x = 0..16 as 4x4, 2x2 ones dilated by 2: x[i][j] + x[i][j+2] + x[i+2][j] + x[i+2][j+2].
    let w = float_tensor("w", &[1, 1, 2, 2], &[1.; 4]);
    let conv = node(
        "Conv",
        "c",
        &["x", "w"],
        &["y"],
        vec![attr_ints("dilations", &[2, 2])],
    );
    let g = import(vec![conv], vec![w], &[1, 1, 4, 4]);
    assert_eq!(out_shape(&g), [1, 1, 2, 2]);
    assert_close(&run(&g, &iota(16)), &[20., 24., 36., 40.]);
}

#[test]
fn conv_groups() {
    // Channel 0 = [1,2,3,4], channel 1 = [10,20,30,40]; depthwise with multiplier 2:
    // outputs 0,1 read input channel 0 (x1, x2), outputs 2,3 read channel 1 (x3, x4).
    let w = float_tensor("w", &[4, 1, 1, 1], &[1., 2., 3., 4.]);
    let b = float_tensor("b", &[4], &[0., 0., 0., 0.5]);
    let conv = node(
        "Conv",
        "dw",
        &["x", "w", "b"],
        &["y"],
        vec![attr_int("group", 2)],
    );
    let g = import(vec![conv], vec![w, b], &[1, 2, 2, 2]);
    assert_eq!(out_shape(&g), [1, 4, 2, 2]);
    let Op::Conv { geom, .. } = &g.nodes[0].op else {
        panic!("{:?}", g.nodes[0].op)
    };
    assert_eq!(geom.groups, 2);
    let x = [1., 2., 3., 4., 10., 20., 30., 40.];
    #[rustfmt::skip]
    let want = [
        1., 2., 3., 4.,
        2., 4., 6., 8.,
        30., 60., 90., 120.,
        40.5, 80.5, 120.5, 160.5,
    ];
    assert_close(&run(&g, &x), &want);
}

#[test]
fn conv_auto_pad() {
    let w = float_tensor("w", &[1, 1, 2, 2], &[1.; 4]);
    let same = |mode: &str| {
        let conv = node(
            "Conv",
            "c",
            &["x", "w"],
            &["y"],
            vec![attr_string("auto_pad", mode)],
        );
        import(vec![conv], vec![w.clone()], &[1, 1, 3, 3])
    };
    // SAME_UPPER pads the end (bottom/right): 2x2 sums of x[i..i+2][j..j+2].
    let g = same("SAME_UPPER");
    assert_eq!(out_shape(&g), [1, 1, 3, 3]);
    assert_close(
        &run(&g, &one_to(9)),
        &[12., 16., 9., 24., 28., 15., 15., 17., 9.],
    );
    // SAME_LOWER pads the start: sums of x[i-1..i+1][j-1..j+1].
    let g = same("SAME_LOWER");
    assert_close(
        &run(&g, &one_to(9)),
        &[1., 3., 5., 5., 12., 16., 11., 24., 28.],
    );
    let g = same("VALID");
    assert_eq!(out_shape(&g), [1, 1, 2, 2]);
    assert_close(&run(&g, &one_to(9)), &[12., 16., 24., 28.]);
}

#[test]
fn conv_1d() {
    // x = [1..5], w = [1, 10], pad left 1, stride 2: windows [0,1], [2,3], [4,5].
    let w = float_tensor("w", &[1, 1, 2], &[1., 10.]);
    let attrs = vec![attr_ints("pads", &[1, 0]), attr_ints("strides", &[2])];
    let conv = node("Conv", "c", &["x", "w"], &["y"], attrs);
    let g = import(vec![conv], vec![w], &[1, 1, 5]);
    assert_eq!(out_shape(&g), [1, 1, 3]);
    assert_close(&run(&g, &one_to(5)), &[10., 32., 54.]);
}

#[test]
fn average_pool_padding_counts() {
    // x = [[1,2],[3,4]] padded on top/left; 2x2 windows, stride 1.
    let pool = |include: i64| {
        let attrs = vec![
            attr_ints("kernel_shape", &[2, 2]),
            attr_ints("pads", &[1, 1, 0, 0]),
            attr_int("count_include_pad", include),
        ];
        let p = node("AveragePool", "/pool", &["x"], &["y"], attrs);
        import(vec![p], vec![], &[1, 1, 2, 2])
    };
    let g = pool(1);
    assert_eq!(out_shape(&g), [1, 1, 2, 2]);
    assert_close(&run(&g, &[1., 2., 3., 4.]), &[0.25, 0.75, 1.0, 2.5]);
    let g = pool(0);
    assert_close(&run(&g, &[1., 2., 3., 4.]), &[1.0, 1.5, 2.0, 2.5]);
}

#[test]
fn average_pool_stride_over_channels() {
    // cnn-style 2x2 / stride 2 on two channels of a 2x4 image.
    let attrs = vec![
        attr_ints("kernel_shape", &[2, 2]),
        attr_ints("strides", &[2, 2]),
    ];
    let p = node("AveragePool", "p", &["x"], &["y"], attrs);
    let g = import(vec![p], vec![], &[1, 2, 2, 4]);
    assert_eq!(out_shape(&g), [1, 2, 1, 2]);
    // ch0 rows [0 1 2 3],[4 5 6 7]; ch1 = ch0 + 8.
    assert_close(&run(&g, &iota(16)), &[2.5, 4.5, 10.5, 12.5]);
}

#[test]
fn max_pool_padding_stride_dilation() {
    // Negative values: padded positions must be ignored, not read as 0.
    let x = [-1., -9., -2., -8., -3., -7., -4., -6., -5.];
    let attrs = vec![
        attr_ints("kernel_shape", &[2, 2]),
        attr_ints("strides", &[2, 2]),
        attr_ints("pads", &[0, 0, 1, 1]),
    ];
    let p = node("MaxPool", "mp", &["x"], &["y"], attrs);
    let g = import(vec![p], vec![], &[1, 1, 3, 3]);
    assert_eq!(out_shape(&g), [1, 1, 2, 2]);
    assert_close(&run(&g, &x), &[-1., -2., -4., -5.]);

    let attrs = vec![
        attr_ints("kernel_shape", &[2, 2]),
        attr_ints("dilations", &[2, 2]),
    ];
    let p = node("MaxPool", "mp", &["x"], &["y"], attrs);
    let g = import(vec![p], vec![], &[1, 1, 3, 3]);
    assert_eq!(out_shape(&g), [1, 1, 1, 1]);
    // Corners: -1, -2, -4, -5.
    assert_close(&run(&g, &x), &[-1.]);
}

#[test]
fn pools_ceil_mode() {
    let x = [1., 5., 2., 4., 6.];
    let attrs = |extra: Vec<_>| {
        let mut a = vec![
            attr_ints("kernel_shape", &[1, 2]),
            attr_ints("strides", &[1, 2]),
            attr_int("ceil_mode", 1),
        ];
        a.extend(extra);
        a
    };
    let p = node("MaxPool", "mp", &["x"], &["y"], attrs(vec![]));
    let g = import(vec![p], vec![], &[1, 1, 1, 5]);
    assert_eq!(out_shape(&g), [1, 1, 1, 3]);
    assert_close(&run(&g, &x), &[5., 4., 6.]);
    let p = node("AveragePool", "ap", &["x"], &["y"], attrs(vec![]));
    let g = import(vec![p], vec![], &[1, 1, 1, 5]);
    assert_close(&run(&g, &x), &[3., 3., 6.]);
    // A window that would start in the trailing padding is dropped: 4 wide, kernel 2,
    // stride 2, right pad 1 gives 2 windows, not 3.
    let p = node(
        "MaxPool",
        "mp",
        &["x"],
        &["y"],
        attrs(vec![attr_ints("pads", &[0, 0, 0, 1])]),
    );
    let g = import(vec![p], vec![], &[1, 1, 1, 4]);
    assert_eq!(out_shape(&g), [1, 1, 1, 2]);
    // ceil_mode that changes nothing is accepted with count_include_pad.
    let p = node(
        "AveragePool",
        "ap",
        &["x"],
        &["y"],
        attrs(vec![attr_int("count_include_pad", 1)]),
    );
    let g = import(vec![p], vec![], &[1, 1, 1, 4]);
    assert_close(&run(&g, &[1., 2., 3., 4.]), &[1.5, 3.5]);
}

#[test]
fn global_pools() {
    let x = [1., 2., 3., 6., -1., -2., -3., -10.];
    let p = node("GlobalAveragePool", "gap", &["x"], &["y"], vec![]);
    let g = import(vec![p], vec![], &[1, 2, 2, 2]);
    assert_eq!(out_shape(&g), [1, 2, 1, 1]);
    assert_eq!(kinds(&g), ["AvgPool"]);
    assert_close(&run(&g, &x), &[3., -4.]);
    let p = node("GlobalMaxPool", "gmp", &["x"], &["y"], vec![]);
    let g = import(vec![p], vec![], &[1, 2, 2, 2]);
    assert_eq!(kinds(&g), ["MaxPool"]);
    assert_close(&run(&g, &x), &[6., -1.]);
}

/// BatchNormalization with a = scale / sqrt(var + eps) = [2, 1] and b = B - mean * a = [1, -1]
/// (eps = 1).
fn bn_inits() -> Vec<zkinfer_compiler::onnx::proto::TensorProto> {
    vec![
        float_tensor("s", &[2], &[4., 3.]),
        float_tensor("B", &[2], &[1., 0.]),
        float_tensor("mean", &[2], &[0., 1.]),
        float_tensor("var", &[2], &[3., 8.]),
    ]
}

fn bn(input: &str, output: &str) -> zkinfer_compiler::onnx::proto::NodeProto {
    node(
        "BatchNormalization",
        "/bn/BatchNormalization",
        &[input, "s", "B", "mean", "var"],
        &[output],
        vec![attr_float("epsilon", 1.0)],
    )
}

#[test]
fn batch_norm_folds_into_conv() {
    // Conv output: channel 0 = x, channel 1 = 2x + 1; x = [1, 2].
    let mut inits = bn_inits();
    inits.push(float_tensor("w", &[2, 1, 1, 1], &[1., 2.]));
    inits.push(float_tensor("cb", &[2], &[0., 1.]));
    let nodes = vec![
        node("Conv", "conv", &["x", "w", "cb"], &["c"], vec![]),
        bn("c", "y"),
    ];
    let g = import(nodes, inits, &[1, 1, 1, 2]);
    assert_eq!(kinds(&g), ["Conv"]);
    let Op::Conv { weight, bias, .. } = &g.nodes[0].op else {
        panic!()
    };
    assert_eq!(weight, &[2., 2.]);
    assert_eq!(bias, &[1., 0.]);
    // ch0: 2 * [1, 2] + 1; ch1: [3, 5] - 1.
    assert_close(&run(&g, &[1., 2.]), &[3., 5., 2., 4.]);
}

#[test]
fn batch_norm_with_other_reader_is_mul_add() {
    let mut inits = bn_inits();
    inits.push(float_tensor("w", &[2, 1, 1, 1], &[1., 2.]));
    inits.push(float_tensor("cb", &[2], &[0., 1.]));
    let nodes = vec![
        node("Conv", "conv", &["x", "w", "cb"], &["c"], vec![]),
        bn("c", "n"),
        node("Add", "res", &["n", "c"], &["y"], vec![]),
    ];
    let g = import(nodes, inits, &[1, 1, 1, 2]);
    assert_eq!(kinds(&g), ["Conv", "MulConst", "AddConst", "Add"]);
    assert_eq!(g.nodes[1].name, "/bn/BatchNormalization");
    assert_eq!(g.nodes[2].name, "/bn/BatchNormalization/shift");
    assert_eq!(
        g.nodes[1].op,
        Op::MulConst {
            constant: vec![2., 2., 1., 1.]
        }
    );
    // bn = [3, 5, 2, 4], conv = [1, 2, 3, 5].
    assert_close(&run(&g, &[1., 2.]), &[4., 7., 5., 9.]);
}

#[test]
fn batch_norm_on_input_and_after_linear() {
    let g = import(vec![bn("x", "y")], bn_inits(), &[1, 2, 1, 2]);
    assert_eq!(kinds(&g), ["MulConst", "AddConst"]);
    assert_close(&run(&g, &[1., 2., 3., 4.]), &[3., 5., 2., 3.]);

    // BatchNorm1d after a Gemm ([N, C]): folded into the Linear.
    let mut inits = bn_inits();
    inits.push(float_tensor("W", &[2, 2], &[1., 0., 0., 1.]));
    let nodes = vec![
        node("Gemm", "fc", &["x", "W"], &["h"], vec![]),
        bn("h", "y"),
    ];
    let g = import(nodes, inits, &[1, 2]);
    assert_eq!(kinds(&g), ["Linear"]);
    assert_close(&run(&g, &[1., 2.]), &[3., 1.]);
}

#[test]
fn per_channel_add_folds_into_conv_bias() {
    let w = float_tensor("w", &[2, 1, 1, 1], &[1., 1.]);
    let c = float_tensor("c", &[1, 2, 1, 1], &[10., 20.]);
    let nodes = vec![
        node("Conv", "conv", &["x", "w"], &["h"], vec![]),
        node("Add", "add", &["h", "c"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![w, c], &[1, 1, 1, 2]);
    assert_eq!(kinds(&g), ["Conv"]);
    assert_close(&run(&g, &[1., 2.]), &[11., 12., 21., 22.]);

    // Varying within a channel: not foldable.
    let w = float_tensor("w", &[2, 1, 1, 1], &[1., 1.]);
    let c = float_tensor("c", &[2], &[10., 20.]);
    let nodes = vec![
        node("Conv", "conv", &["x", "w"], &["h"], vec![]),
        node("Add", "add", &["h", "c"], &["y"], vec![]),
    ];
    let g = import(nodes, vec![w, c], &[1, 1, 1, 2]);
    assert_eq!(kinds(&g), ["Conv", "AddConst"]);
    assert_close(&run(&g, &[1., 2.]), &[11., 22., 11., 22.]);
}
