#!/usr/bin/env python3
"""Writes the op fixture collection: one small ONNX model per op or graph feature, plus a
few composite models, each with its calibration input (EZKL's input.json) and onnxruntime's
float output for the first sample (expected.json).

    python3 -m venv .venv && .venv/bin/pip install onnx onnxruntime numpy scikit-learn skl2onnx
    .venv/bin/python scripts/make_op_fixtures.py tests/fixtures/ops
    .venv/bin/python scripts/make_op_fixtures.py tests/fixtures/ops lstm gru   # only these

The outputs are committed; the Rust tests (tests/op_fixtures.rs) need no Python.
"""

import json
import os
import sys
import zlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

SAMPLES = 4
RNG = np.random.default_rng(7)


def f32(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def i64(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.int64), name)


def rand(shape, lo, hi, rng=None):
    return (rng or RNG).uniform(lo, hi, size=shape).astype(np.float32)


class Fixture:
    """A model: its nodes, initializers, inputs (name, shape, sampler) and output names."""

    def __init__(self, name, nodes, inputs, outputs, inits=(), opset=17, note="", out_types=None):
        self.name, self.nodes, self.inputs, self.outputs = name, nodes, inputs, outputs
        self.inits, self.opset, self.note, self.out_types = list(inits), opset, note, out_types
        self.model = None  # a model built elsewhere (sklearn-onnx), written as is

    def write(self, root):
        vi = [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, list(shape))
            for n, shape, _ in self.inputs
        ]
        def build(out_shapes, out_types=None):
            types = out_types or [TensorProto.FLOAT] * len(self.outputs)
            vo = [
                helper.make_tensor_value_info(n, ty, shape)
                for n, ty, shape in zip(self.outputs, types, out_shapes)
            ]
            graph = helper.make_graph(self.nodes, self.name, vi, vo, self.inits)
            m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
            m.ir_version = 8
            return m

        # Samples come from a generator seeded by the name, so adding a fixture changes no other.
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        samples = [[sampler(shape, rng) for _, shape, sampler in self.inputs] for _ in range(SAMPLES)]
        feeds = {n: x for (n, _, _), x in zip(self.inputs, samples[0])}
        # Run once without declared output shapes, then declare the shapes onnxruntime computed.
        probe = self.model or build([None] * len(self.outputs), self.out_types)
        session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
        results = session.run(None, feeds)
        model = self.model or build([list(r.shape) for r in results], self.out_types)
        onnx.checker.check_model(model, full_check=True)
        lists = [[float(v) for v in x.ravel()] for sample in samples for x in sample]
        expected = {
            "ops": sorted({n.op_type for n in model.graph.node}),
            "note": self.note,
            "outputs": [
                {"name": n, "shape": list(r.shape), "values": [float(v) for v in np.asarray(r, dtype=np.float64).ravel()]}
                for n, r in zip(self.outputs, results)
            ],
        }
        d = os.path.join(root, self.name)
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        with open(os.path.join(d, "input.json"), "w") as f:
            json.dump({"input_data": lists}, f)
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump(expected, f, indent=1)


def uniform(lo, hi):
    return lambda shape, rng: rand(shape, lo, hi, rng)


def unary(name, op, lo=-2.0, hi=2.0, shape=(2, 8), opset=17, **attrs):
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    return Fixture(name, [node], [("x", shape, uniform(lo, hi))], ["y"], opset=opset)


def fixtures():
    out = []
    # Activations and math, one op each.
    out += [
        unary("leaky_relu", "LeakyRelu", alpha=0.1),
        unary("elu", "Elu", alpha=0.7),
        unary("selu", "Selu"),
        unary("celu", "Celu", alpha=1.5),
        unary("hard_sigmoid", "HardSigmoid", alpha=0.25, beta=0.4),
        unary("hard_swish", "HardSwish", lo=-4, hi=4),
        unary("softsign", "Softsign"),
        unary("abs", "Abs"),
        unary("sign", "Sign"),
        unary("floor", "Floor", lo=-3, hi=3),
        unary("ceil", "Ceil", lo=-3, hi=3),
        unary("round", "Round", lo=-3, hi=3),
        unary("log", "Log", lo=0.5, hi=4),
        unary("exp", "Exp"),
        unary("sin", "Sin", lo=-3, hi=3),
        unary("cos", "Cos", lo=-3, hi=3),
        unary("tan", "Tan", lo=-1.2, hi=1.2),
        unary("asin", "Asin", lo=-0.9, hi=0.9),
        unary("acos", "Acos", lo=-0.9, hi=0.9),
        unary("atan", "Atan", lo=-3, hi=3),
        unary("sinh", "Sinh"),
        unary("cosh", "Cosh"),
        unary("asinh", "Asinh", lo=-3, hi=3),
        unary("acosh", "Acosh", lo=1.1, hi=4),
        unary("mish", "Mish", lo=-3, hi=3, opset=18),
        unary("gelu", "Gelu", lo=-3, hi=3, opset=20),
        unary("gelu_tanh", "Gelu", lo=-3, hi=3, opset=20, approximate="tanh"),
        unary("sigmoid", "Sigmoid", lo=-4, hi=4),
        unary("tanh", "Tanh"),
        unary("softplus", "Softplus"),
        unary("dropout", "Dropout"),
        unary("erf", "Erf"),
        unary("sqrt", "Sqrt", lo=0.25, hi=4),
        unary("reciprocal", "Reciprocal", lo=0.5, hi=4),
        unary("softmax", "Softmax", lo=-3, hi=3, axis=1),
    ]
    x_pos = [("x", (2, 8), uniform(0.25, 4))]
    rsqrt = [helper.make_node("Sqrt", ["x"], ["s"]), helper.make_node("Reciprocal", ["s"], ["y"])]
    out.append(Fixture("rsqrt", rsqrt, x_pos, ["y"], note="1 / sqrt(x), as exporters write it"))
    ln = helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1, epsilon=1e-5)
    out.append(Fixture("layer_norm", [ln], [("x", (2, 8), uniform(-2, 2))], ["y"],
                       [f32("g", np.linspace(0.5, 1.5, 8)), f32("b", np.linspace(-0.2, 0.2, 8))],
                       note="LayerNormalization over the last axis, opset 17"))
    x28 = [("x", (2, 8), uniform(-2, 2))]
    out.append(Fixture("prelu", [helper.make_node("PRelu", ["x", "s"], ["y"])], x28, ["y"],
                       [f32("s", [[0.2], [-0.1]])]))
    out.append(Fixture("clip", [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])], x28, ["y"],
                       [f32("lo", -0.5), f32("hi", 0.8)]))
    for op in ["Max", "Min", "Sum", "Mean"]:
        nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node(op, ["x", "r", "c"], ["y"])]
        out.append(Fixture(f"nary_{op.lower()}", nodes, x28, ["y"], [f32("c", np.linspace(-1, 1, 8))]))
    for e, lo in [(2.0, -2), (3.0, -2), (0.5, 0.25), (1.5, 0.25), (-1.0, 0.5)]:
        name = "pow_" + str(e).replace(".", "_").replace("-", "neg")
        node = helper.make_node("Pow", ["x", "e"], ["y"])
        out.append(Fixture(name, [node], [("x", (2, 8), uniform(lo, 2))], ["y"], [f32("e", e)]))
    # Reductions over a middle axis, keepdims off, and over two axes.
    x234 = [("x", (2, 3, 4), uniform(-2, 2))]
    for op in ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"]:
        node = helper.make_node(op, ["x"], ["y"], axes=[1], keepdims=0)
        out.append(Fixture(op[len("Reduce"):].lower().join(["reduce_", ""]), [node], x234, ["y"]))
    out.append(Fixture("reduce_sum", [helper.make_node("ReduceSum", ["x", "axes"], ["y"])], x234, ["y"],
                       [i64("axes", [0, 2])]))
    # Comparisons, logic, Where, index ops.
    cmp_nodes = [
        helper.make_node("Greater", ["x", "t"], ["p"]),
        helper.make_node("LessOrEqual", ["x", "u"], ["q"]),
        helper.make_node("Or", ["p", "q"], ["o"]),
        helper.make_node("Not", ["o"], ["n"]),
        helper.make_node("Where", ["n", "x", "t"], ["y"]),
    ]
    out.append(Fixture("logic_where", cmp_nodes, x28, ["y"], [f32("t", 0.5), f32("u", -0.5)]))
    eq_nodes = [
        helper.make_node("Round", ["x"], ["r"]),
        helper.make_node("Equal", ["r", "one"], ["e"]),
        helper.make_node("Less", ["x", "zero"], ["l"]),
        helper.make_node("Xor", ["e", "l"], ["b"]),
        helper.make_node("And", ["b", "e"], ["a"]),
        helper.make_node("Cast", ["a"], ["y"], to=TensorProto.FLOAT),
    ]
    out.append(Fixture("logic_equal_cast", eq_nodes, [("x", (2, 8), uniform(-2, 2))], ["y"],
                       [f32("one", 1.0), f32("zero", 0.0)]))
    for op, attrs in [("ArgMax", {"axis": 1}), ("ArgMin", {"axis": 0, "keepdims": 0}),
                      ("Hardmax", {}), ("LogSoftmax", {"axis": 1})]:
        nodes = [helper.make_node(op, ["x"], ["i"], **attrs)]
        if op.startswith("Arg"):
            nodes.append(helper.make_node("Cast", ["i"], ["y"], to=TensorProto.FLOAT))
        else:
            nodes[0].output[0] = "y"
        out.append(Fixture(op.lower(), nodes, [("x", (3, 5), uniform(-2, 2))], ["y"]))
    # Graph features.
    mio = [
        helper.make_node("Mul", ["a", "b"], ["m"]),
        helper.make_node("Add", ["m", "a"], ["y"]),
        helper.make_node("Relu", ["b"], ["z"]),
    ]
    out.append(Fixture("two_inputs_two_outputs", mio,
                       [("a", (4,), uniform(-1, 1)), ("b", (1, 4), uniform(-1, 1))], ["y", "z"]))
    move = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0]),
        helper.make_node("Reshape", ["t", "shape"], ["f"]),
        helper.make_node("Slice", ["f", "starts", "ends"], ["s"]),
        helper.make_node("Concat", ["s", "s"], ["y"], axis=0),
    ]
    out.append(Fixture("data_movement_only", move, [("x", (2, 3), uniform(-1, 1))], ["y"],
                       [i64("shape", [6]), i64("starts", [1]), i64("ends", [5])]))
    out.append(Fixture("identity", [helper.make_node("Identity", ["x"], ["y"])],
                       [("x", (5,), uniform(-1, 1))], ["y"]))
    # Composites.
    out.append(lenet())
    out.append(transformer_block())
    out += spatial()
    out += indexing()
    out += trees()
    out += sklearn_trees()
    out.append(qdq())
    for largest in [1, 0]:
        node = helper.make_node("TopK", ["x", "k"], ["values", "indices"], axis=1, largest=largest)
        out.append(Fixture(f"topk_largest{largest}", [node], [("x", (2, 6), uniform(-1, 1))],
                           ["values", "indices"], [i64("k", [3])],
                           out_types=[TensorProto.FLOAT, TensorProto.INT64]))
    out += recurrent()
    nodes = [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Cast", ["s"], ["size"], to=TensorProto.FLOAT)]
    out += integer_ops()
    out.append(Fixture("constant_output", nodes, [("x", (2, 3), uniform(-1, 1))], ["y", "size"],
                       note="an output computed from shapes only"))
    out.append(no_input())
    return out


def no_input():
    """A graph with no inputs: every output is a constant or computed from shapes."""
    fill = helper.make_tensor("fill", TensorProto.FLOAT, [1], [1.5])
    nodes = [
        helper.make_node("ConstantOfShape", ["dims"], ["filled"], value=fill),
        helper.make_node("Range", ["start", "limit", "delta"], ["r"]),
        helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["rf", "w"], ["ramp"]),
    ]
    inits = [i64("dims", [2, 3]), i64("start", 0), i64("limit", 5), i64("delta", 1),
             f32("w", [0.25, -0.5, 1.0, 2.0, -0.75])]
    return Fixture("no_input", nodes, [], ["filled", "ramp"], inits,
                   note="no graph input: input_data is []")


def integer_ops():
    """ReduceProd, and integer arithmetic on Cast integers: BitShift (uint8), Mod (both fmod
    rules), integer Div (truncating)."""
    out = [unary("reduce_prod", "ReduceProd", lo=0.5, hi=1.5, shape=(3, 4), axes=[1], keepdims=0,
                 opset=17)]
    xi = [("x", (2, 6), uniform(-20, 20))]
    to_f = lambda src: helper.make_node("Cast", [src], ["y"], to=TensorProto.FLOAT)
    nodes = [helper.make_node("Abs", ["x"], ["a"]), helper.make_node("Cast", ["a"], ["u"], to=TensorProto.UINT8),
             helper.make_node("BitShift", ["u", "k"], ["s"], direction="RIGHT"), to_f("s")]
    out.append(Fixture("bitshift_right", nodes, xi, ["y"], [numpy_helper.from_array(np.uint8(2), "k")]))
    for fmod, name in [(0, "mod_int"), (1, "mod_int_fmod")]:
        nodes = [helper.make_node("Cast", ["x"], ["i"], to=TensorProto.INT64),
                 helper.make_node("Mod", ["i", "c"], ["m"], fmod=fmod), to_f("m")]
        out.append(Fixture(name, nodes, xi, ["y"], [i64("c", 3)]))
    nodes = [helper.make_node("Mod", ["x", "c"], ["y"], fmod=1)]
    out.append(Fixture("mod_float_fmod", nodes, [("x", (2, 6), uniform(-5, 5))], ["y"], [f32("c", 1.5)]))
    nodes = [helper.make_node("Cast", ["x"], ["i"], to=TensorProto.INT64),
             helper.make_node("Div", ["i", "c"], ["d"]), to_f("d")]
    out.append(Fixture("integer_div", nodes, xi, ["y"], [i64("c", 4)]))
    return out


def qdq():
    """A QDQ-quantized linear layer: the activation quantized and dequantized (int8, zero point
    3), the weights stored as int8 with a per-column scale and dequantized."""
    w = RNG.integers(-127, 128, (6, 4)).astype(np.int8)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"]),
        helper.make_node("DequantizeLinear", ["wq", "ws"], ["w"], axis=1),
        helper.make_node("MatMul", ["xd", "w"], ["y"]),
    ]
    inits = [f32("s", 0.02), numpy_helper.from_array(np.int8(3), "z"), numpy_helper.from_array(w, "wq"),
             f32("ws", [0.004, 0.003, 0.005, 0.002])]
    return Fixture("qdq_linear", nodes, [("x", (2, 6), uniform(-1, 1))], ["y"], inits,
                   note="QuantizeLinear/DequantizeLinear round trip and int8 weights")


def sklearn_trees():
    """Tree ensembles trained with scikit-learn and exported by sklearn-onnx (ai.onnx.ml
    TreeEnsembleClassifier/Regressor, without ZipMap)."""
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (200, 4)).astype(np.float32)
    y_cls = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 0.5).astype(int)
    y_reg = X[:, 0] * 2 - X[:, 1] ** 2 + 0.5 * X[:, 2]
    out = []
    for name, est, y in [
        ("sklearn_decision_tree", DecisionTreeClassifier(max_depth=3, random_state=0), y_cls),
        ("sklearn_random_forest", RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0), y_cls),
        ("sklearn_gradient_boosting", GradientBoostingRegressor(n_estimators=4, max_depth=2, random_state=0), y_reg),
    ]:
        est.fit(X, y)
        options = {id(est): {"zipmap": False}} if hasattr(est, "classes_") else None
        model = convert_sklearn(est, initial_types=[("x", FloatTensorType([3, 4]))], options=options,
                                target_opset={"": 17, "ai.onnx.ml": 3})
        outputs = [o.name for o in model.graph.output]
        fx = Fixture(name, [], [("x", (3, 4), uniform(-1, 1))], outputs, note="scikit-learn, sklearn-onnx export")
        model.graph.name = name  # sklearn-onnx draws a random one
        fx.model = model
        out.append(fx)
    return out


def random_tree(depth, features, rng):
    """A full binary tree: per internal node (breadth-first) a feature and a threshold."""
    internal = 2 ** depth - 1
    return rng.integers(0, features, internal), rng.uniform(-0.6, 0.6, internal).astype(np.float32)


def tree_gemm_tensors(depth, features, trees, rng):
    """The GEMM form of a forest of full trees, as hummingbird's tree-to-tensor compiler lays
    it out: A selects each node's feature, B holds the thresholds, C[i, l] is +1 (-1) when leaf
    l lies left (right) of node i, and D[l] counts the left turns on the path to l."""
    internal, leaves = 2 ** depth - 1, 2 ** depth
    A = np.zeros((features, internal * trees), np.float32)
    B = np.zeros(internal * trees, np.float32)
    C = np.zeros((internal * trees, leaves * trees), np.float32)
    D = np.zeros(leaves * trees, np.float32)
    for t in range(trees):
        feat, thr = random_tree(depth, features, rng)
        for i in range(internal):
            A[feat[i], t * internal + i] = 1
            B[t * internal + i] = thr[i]
        for l in range(leaves):
            node, lefts = 0, 0
            for level in range(depth):
                bit = (l >> (depth - 1 - level)) & 1
                C[t * internal + node, t * leaves + l] = 1 if bit == 0 else -1
                lefts += bit == 0
                node = 2 * node + 1 + bit
            D[t * leaves + l] = lefts
    return A, B, C, D


def trees():
    """Tree ensembles in the GEMM form (MatMul, Less, Cast, MatMul, Equal, Cast, MatMul):
    a decision tree and a random forest classifier (ArgMax, then the class label by Gather),
    and a gradient-boosted regressor (leaf values summed, plus the base score)."""
    out = []
    rng = np.random.default_rng(11)
    features = 4
    x = [("x", (3, features), uniform(-1, 1))]

    def body(depth, trees_n):
        A, B, C, D = tree_gemm_tensors(depth, features, trees_n, rng)
        nodes = [
            helper.make_node("MatMul", ["x", "A"], ["xa"]),
            helper.make_node("Less", ["xa", "B"], ["lt"]),
            helper.make_node("Cast", ["lt"], ["ltf"], to=TensorProto.FLOAT),
            helper.make_node("MatMul", ["ltf", "C"], ["paths"]),
            helper.make_node("Equal", ["paths", "D"], ["hit"]),
            helper.make_node("Cast", ["hit"], ["leaf"], to=TensorProto.FLOAT),
        ]
        return nodes, [f32("A", A), f32("B", B), f32("C", C), f32("D", D)], 2 ** depth * trees_n

    for name, depth, trees_n in [("decision_tree", 3, 1), ("random_forest", 2, 3)]:
        nodes, inits, leaves = body(depth, trees_n)
        classes = 3
        E = np.zeros((leaves, classes), np.float32)
        for l in range(leaves):
            p = rng.dirichlet(np.ones(classes)).astype(np.float32)
            E[l] = p / trees_n
        nodes += [
            helper.make_node("MatMul", ["leaf", "E"], ["probabilities"]),
            helper.make_node("ArgMax", ["probabilities"], ["am"], axis=1, keepdims=0),
            helper.make_node("Gather", ["labels", "am"], ["label"]),
        ]
        inits += [f32("E", E), i64("labels", [3, 7, 9])]
        out.append(Fixture(name, nodes, x, ["label", "probabilities"], inits,
                           out_types=[TensorProto.INT64, TensorProto.FLOAT],
                           note="tree ensemble in GEMM form; label and class probabilities"))
    nodes, inits, leaves = body(2, 4)
    nodes += [
        helper.make_node("MatMul", ["leaf", "V"], ["score"]),
        helper.make_node("Add", ["score", "base"], ["y"]),
    ]
    inits += [f32("V", rng.uniform(-0.5, 0.5, (leaves, 1))), f32("base", [0.3])]
    out.append(Fixture("gradient_boosted_trees", nodes, x, ["y"], inits,
                       note="boosted regression trees in GEMM form: leaf values summed"))
    return out


def indexing():
    """Gathers at computed (ArgMax) and constant indices, scatters, OneHot."""
    out = []
    am = lambda keep: helper.make_node("ArgMax", ["x"], ["i"], axis=1, keepdims=keep)
    x = [("x", (2, 5), uniform(-1, 1))]
    out.append(Fixture("gather_embedding_computed", [am(0), helper.make_node("Gather", ["t", "i"], ["y"])],
                       x, ["y"], [f32("t", rand((5, 3), -1, 1))]))
    out.append(Fixture("gather_elements_computed",
                       [am(1), helper.make_node("GatherElements", ["x", "i"], ["y"], axis=1)], x, ["y"]))
    out.append(Fixture("gather_elements_const", [helper.make_node("GatherElements", ["x", "c"], ["y"], axis=1)],
                       x, ["y"], [i64("c", [[4, 0, 1], [2, 2, 3]])]))
    nodes = [am(0), helper.make_node("Reshape", ["i", "s"], ["ii"]), helper.make_node("GatherND", ["t", "ii"], ["y"])]
    out.append(Fixture("gather_nd_computed", nodes, x, ["y"], [f32("t", rand((5, 5, 2), -1, 1)), i64("s", [1, 2])]))
    out.append(Fixture("gather_nd_const", [helper.make_node("GatherND", ["x", "c"], ["y"])], x, ["y"],
                       [i64("c", [[1, 3], [0, 0]])]))
    out.append(Fixture("scatter_elements_const",
                       [helper.make_node("ScatterElements", ["x", "c", "u"], ["y"], axis=1)], x, ["y"],
                       [i64("c", [[4, 1], [0, 2]]), f32("u", [[0.5, -0.5], [0.25, 0.75]])]))
    out.append(Fixture("scatter_nd_const", [helper.make_node("ScatterND", ["x", "c", "u"], ["y"])], x, ["y"],
                       [i64("c", [[1]]), f32("u", rand((1, 5), -1, 1))]))
    out.append(Fixture("scatter_elements_computed",
                       [am(1), helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=1)], x, ["y"],
                       [f32("u", [[0.5], [-0.75]])], note="each row's maximum overwritten"))
    # Two rows may share their ArgMax, so the computed ScatterND adds (duplicates are defined).
    # Its weights come from its own generator, so the fixtures after it keep theirs.
    own = np.random.default_rng(zlib.crc32(b"scatter_nd_add_computed"))
    nodes = [am(0), helper.make_node("Reshape", ["i", "s"], ["ii"]),
             helper.make_node("ScatterND", ["t", "ii", "u"], ["y"], reduction="add")]
    out.append(Fixture("scatter_nd_add_computed", nodes, x, ["y"],
                       [f32("t", rand((5, 3), -1, 1, own)), i64("s", [2, 1]), f32("u", rand((2, 3), -1, 1, own))]))
    nodes = [am(0), helper.make_node("OneHot", ["i", "d", "v"], ["y"], axis=-1)]
    out.append(Fixture("one_hot_computed", nodes, x, ["y"], [i64("d", 5), f32("v", [0.0, 1.0])]))
    return out


def spatial():
    """Padding, tiling, resizing, transposed and 1-D convolution, LpPool, InstanceNorm, Trilu,
    constants mixed with activations, and constant generators."""
    out = []
    img = [("x", (1, 2, 4, 4), uniform(-1, 1))]
    for mode in ["constant", "reflect", "edge"]:
        node = helper.make_node("Pad", ["x", "pads", "v"], ["y"], mode=mode)
        inits = [i64("pads", [0, 0, 1, 2, 0, 0, 2, 1]), f32("v", 0.5 if mode == "constant" else 0.0)]
        out.append(Fixture(f"pad_{mode}", [node], img, ["y"], inits))
    out.append(Fixture("tile", [helper.make_node("Tile", ["x", "r"], ["y"])],
                       [("x", (2, 3), uniform(-1, 1))], ["y"], [i64("r", [2, 3])]))
    for mode, coord in [("nearest", "asymmetric"), ("linear", "half_pixel"), ("linear", "align_corners")]:
        node = helper.make_node("Resize", ["x", "", "s"], ["y"], mode=mode,
                                coordinate_transformation_mode=coord)
        out.append(Fixture(f"resize_{mode}_{coord}", [node], img, ["y"],
                           [f32("s", [1, 1, 2, 1.5])]))
    node = helper.make_node("Upsample", ["x", "s"], ["y"], mode="nearest")
    out.append(Fixture("upsample_nearest", [node], img, ["y"], [f32("s", [1, 1, 2, 2])], opset=9))
    wt = rand((2, 3, 3, 3), -0.5, 0.5)
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 1, 0, 0],
                            output_padding=[1, 1])
    out.append(Fixture("conv_transpose", [node], img, ["y"], [f32("w", wt), f32("b", [0.1, -0.2, 0.05])]))
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1], strides=[2])
    out.append(Fixture("conv1d", [node], [("x", (1, 3, 10), uniform(-1, 1))], ["y"],
                       [f32("w", rand((4, 3, 3), -0.5, 0.5)), f32("b", [0.1, 0.0, -0.1, 0.2])]))
    for p in [1, 2]:
        node = helper.make_node("LpPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], p=p)
        out.append(Fixture(f"lp_pool_p{p}", [node], img, ["y"]))
    node = helper.make_node("InstanceNormalization", ["x", "g", "b"], ["y"], epsilon=1e-5)
    out.append(Fixture("instance_norm", [node], img, ["y"], [f32("g", [1.2, 0.8]), f32("b", [0.1, -0.3])]))
    for upper in [0, 1]:
        node = helper.make_node("Trilu", ["x", "k"], ["y"], upper=upper)
        out.append(Fixture(f"trilu_upper{upper}", [node], [("x", (2, 3, 4), uniform(-1, 1))], ["y"],
                           [i64("k", 1 - upper)]))
    nodes = [helper.make_node("Concat", ["tok", "x"], ["y"], axis=1)]
    out.append(Fixture("concat_constant_token", nodes, [("x", (1, 3, 4), uniform(-1, 1))], ["y"],
                       [f32("tok", rand((1, 1, 4), -1, 1))]))
    nodes = [
        helper.make_node("Shape", ["x"], ["sh"]),
        helper.make_node("ConstantOfShape", ["sh"], ["ones"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
        helper.make_node("Range", ["r0", "r1", "r2"], ["ramp"]),
        helper.make_node("Add", ["x", "ones"], ["xo"]),
        helper.make_node("Mul", ["xo", "ramp"], ["y"]),
    ]
    out.append(Fixture("generators", nodes, [("x", (2, 5), uniform(-1, 1))], ["y"],
                       [f32("r0", 0.5), f32("r1", 3.0), f32("r2", 0.5)]))
    return out


def lenet():
    """Conv → Relu → MaxPool → Conv → Relu → GlobalAveragePool → Gemm → LogSoftmax."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], kernel_shape=[3, 3]),
        helper.make_node("LeakyRelu", ["c2"], ["r2"], alpha=0.05),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], transB=1),
        helper.make_node("LogSoftmax", ["logits"], ["y"], axis=1),
    ]
    inits = [
        f32("w1", rand((4, 1, 3, 3), -0.5, 0.5)), f32("b1", rand((4,), -0.1, 0.1)),
        f32("w2", rand((6, 4, 3, 3), -0.3, 0.3)), f32("b2", rand((6,), -0.1, 0.1)),
        f32("wf", rand((3, 6), -0.8, 0.8)), f32("bf", rand((3,), -0.1, 0.1)),
    ]
    return Fixture("lenet_small", nodes, [("x", (1, 1, 8, 8), uniform(0, 1))], ["y"], inits,
                   note="composite: a small LeNet with a log-softmax head")


def transformer_block():
    """One pre-norm block as PyTorch exports it at opset 17 with LayerNorm decomposed:
    ReduceMean, Sub, Pow, Sqrt, Div; single-head attention; an Erf GELU MLP."""
    s, d, h = 4, 8, 16
    nodes = []

    def layer_norm(x, tag):
        nodes.extend([
            helper.make_node("ReduceMean", [x], [f"{tag}_mu"], axes=[-1]),
            helper.make_node("Sub", [x, f"{tag}_mu"], [f"{tag}_xc"]),
            helper.make_node("Pow", [f"{tag}_xc", "two"], [f"{tag}_sq"]),
            helper.make_node("ReduceMean", [f"{tag}_sq"], [f"{tag}_var"], axes=[-1]),
            helper.make_node("Add", [f"{tag}_var", "eps"], [f"{tag}_ve"]),
            helper.make_node("Sqrt", [f"{tag}_ve"], [f"{tag}_sd"]),
            helper.make_node("Div", [f"{tag}_xc", f"{tag}_sd"], [f"{tag}_n"]),
            helper.make_node("Mul", [f"{tag}_n", f"{tag}_g"], [f"{tag}_s"]),
            helper.make_node("Add", [f"{tag}_s", f"{tag}_b"], [f"{tag}_out"]),
        ])
        return f"{tag}_out"

    n1 = layer_norm("x", "ln1")
    nodes.extend([
        helper.make_node("MatMul", [n1, "wq"], ["q"]),
        helper.make_node("MatMul", [n1, "wk"], ["k"]),
        helper.make_node("MatMul", [n1, "wv"], ["v"]),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["sc"]),
        helper.make_node("Mul", ["sc", "scale"], ["scs"]),
        helper.make_node("Softmax", ["scs"], ["att"], axis=-1),
        helper.make_node("MatMul", ["att", "v"], ["ctx"]),
        helper.make_node("MatMul", ["ctx", "wo"], ["proj"]),
        helper.make_node("Add", ["x", "proj"], ["res1"]),
    ])
    n2 = layer_norm("res1", "ln2")
    nodes.extend([
        helper.make_node("MatMul", [n2, "w1"], ["h1"]),
        helper.make_node("Add", ["h1", "b1"], ["h1b"]),
        helper.make_node("Div", ["h1b", "sqrt2"], ["hd"]),
        helper.make_node("Erf", ["hd"], ["he"]),
        helper.make_node("Add", ["he", "one"], ["hp"]),
        helper.make_node("Mul", ["h1b", "hp"], ["hm"]),
        helper.make_node("Mul", ["hm", "half"], ["gelu"]),
        helper.make_node("MatMul", ["gelu", "w2"], ["h2"]),
        helper.make_node("Add", ["res1", "h2"], ["y"]),
    ])
    inits = [f32("two", 2.0), f32("eps", 1e-5), f32("scale", 1 / np.sqrt(d)), f32("sqrt2", np.sqrt(2)),
             f32("one", 1.0), f32("half", 0.5)]
    for tag in ["ln1", "ln2"]:
        inits += [f32(f"{tag}_g", rand((d,), 0.8, 1.2)), f32(f"{tag}_b", rand((d,), -0.1, 0.1))]
    for w, shape in [("wq", (d, d)), ("wk", (d, d)), ("wv", (d, d)), ("wo", (d, d)), ("w1", (d, h)), ("w2", (h, d))]:
        inits.append(f32(w, rand(shape, -0.4, 0.4)))
    inits.append(f32("b1", rand((h,), -0.1, 0.1)))
    return Fixture("transformer_block_opset17", nodes, [("x", (1, s, d), uniform(-1, 1))], ["y"], inits,
                   note="composite: pre-norm attention + GELU MLP, LayerNorm decomposed as at opset 17")


def recurrent():
    """RNN, GRU and LSTM, small enough to prove quickly (every step's activations get their own
    lookup tables, which set k). Each draws from its own generator, so it writes the same files
    whether or not the other fixtures are written with it."""

    def weights(seed, op, seq, batch, inp, hidden, dirs=1, bias=True, peep=False, **attrs):
        rng = np.random.default_rng(seed)
        gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
        names = ["x", "W", "R"]
        inits = [f32("W", rng.uniform(-0.5, 0.5, (dirs, gates * hidden, inp))),
                 f32("R", rng.uniform(-0.5, 0.5, (dirs, gates * hidden, hidden)))]
        if bias or peep:
            names.append("B" if bias else "")
        if bias:
            inits.append(f32("B", rng.uniform(-0.2, 0.2, (dirs, 2 * gates * hidden))))
        if peep:
            names += ["", "", ""]
            names.append("P")
            inits.append(f32("P", rng.uniform(-0.5, 0.5, (dirs, 3 * hidden))))
        sample = lambda shape, _rng: rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
        return names, inits, [("x", (seq, batch, inp), sample)], dict(hidden_size=hidden, **attrs)

    out = []
    names, inits, x, attrs = weights(101, "RNN", 4, 1, 3, 4)
    out.append(Fixture("rnn_tanh", [helper.make_node("RNN", names, ["y", "y_h"], **attrs)], x,
                       ["y", "y_h"], inits, note="RNN, tanh, forward, with bias"))
    names, inits, x, attrs = weights(102, "GRU", 3, 1, 3, 3, linear_before_reset=1)
    out.append(Fixture("gru", [helper.make_node("GRU", names, ["y", "y_h"], **attrs)], x,
                       ["y", "y_h"], inits, note="GRU, linear_before_reset = 1 (as PyTorch exports)"))
    names, inits, x, attrs = weights(103, "LSTM", 3, 1, 3, 3)
    out.append(Fixture("lstm", [helper.make_node("LSTM", names, ["y", "y_h", "y_c"], **attrs)], x,
                       ["y", "y_h", "y_c"], inits, note="LSTM, forward, Y, Y_h and Y_c"))
    names, inits, x, attrs = weights(104, "LSTM", 2, 2, 3, 3, dirs=2, bias=False, peep=True,
                                     direction="bidirectional")
    out.append(Fixture("lstm_bidirectional", [helper.make_node("LSTM", names, ["y"], **attrs)], x,
                       ["y"], inits, note="LSTM, bidirectional, batch 2, peepholes, no bias"))
    names, inits, x, attrs = weights(105, "LSTM", 3, 1, 4, 4)
    rng = np.random.default_rng(106)
    nodes = [
        helper.make_node("LSTM", names, ["", "h"], **attrs),
        helper.make_node("Squeeze", ["h", "axes"], ["hs"]),
        helper.make_node("Gemm", ["hs", "wf", "bf"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["y"], axis=1),
    ]
    inits += [i64("axes", [0]), f32("wf", rng.uniform(-1, 1, (3, 4))), f32("bf", rng.uniform(-0.2, 0.2, 3))]
    out.append(Fixture("lstm_classifier", nodes, x, ["y"], inits,
                       note="composite: LSTM, its last hidden state, Gemm, Softmax"))
    return out


def main():
    """Usage: make_op_fixtures.py [DIR [NAME...]]: writes every fixture, or only those named."""
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/ops"
    only = set(sys.argv[2:])
    all_fixtures = fixtures()
    unknown = only - {fx.name for fx in all_fixtures}
    if unknown:
        sys.exit(f"unknown fixtures: {sorted(unknown)}")
    for fx in all_fixtures:
        if not only or fx.name in only:
            fx.write(root)
            print(fx.name)


if __name__ == "__main__":
    main()
