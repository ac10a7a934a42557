//! `ai.onnx.ml` tree ensembles (`TreeEnsembleClassifier`, `TreeEnsembleRegressor`, as
//! sklearn-onnx writes them) as compositions of existing ops.
//!
//! Every branch node compares one feature with its threshold: with `s = sign(x_f - t)`,
//! `p = relu(s)` and `m = relu(-s)`, each mode's "true" indicator is linear in them
//! (`x <= t` is `1 - p`, `x < t` is `m`, `x >= t` is `1 - m`, `x > t` is `p`, `x == t` is
//! `1 - p - m`). A leaf is reached when every literal on its path holds:
//! `leaf = relu(Σ literals - (depth - 1))`, exact on 0/1 values. The scores are a `Linear` of
//! the leaf indicators (the leaf weights summed over trees, plus the base values), then the
//! post-transform; the classifier's label is the class of the first maximal score.

use std::collections::HashMap;

use crate::graph::{ElementOp, Op, TensorId, UnaryFn};
use crate::onnx::emit::equals;
use crate::onnx::emit::push_sub;
use crate::onnx::error::ImportError;
use crate::onnx::node::NodeCtx;
use crate::onnx::state::{Importer, Value};

/// One branch node's comparison.
#[derive(Clone, Copy)]
struct Branch {
    feature: usize,
    threshold: f32,
    /// The "true" indicator as `c + a_p·p + a_m·m`.
    form: [f32; 3],
}

/// A leaf: its path (branch index, took the true edge).
struct Leaf {
    path: Vec<(usize, bool)>,
}

/// The ensemble's trees flattened: branches and leaves of all trees, per tree.
struct Forest {
    branches: Vec<Branch>,
    /// Per tree: its leaves (branch indices are global).
    trees: Vec<Vec<Leaf>>,
    /// (tree, node id) to the leaf's global index.
    leaf_index: HashMap<(i64, i64), usize>,
}

/// The "true" indicator of a node mode in terms of `(1, p, m)`.
fn mode_form(mode: &str) -> Option<[f32; 3]> {
    Some(match mode {
        "BRANCH_LEQ" => [1.0, -1.0, 0.0],
        "BRANCH_LT" => [0.0, 0.0, 1.0],
        "BRANCH_GTE" => [1.0, 0.0, -1.0],
        "BRANCH_GT" => [0.0, 1.0, 0.0],
        "BRANCH_EQ" => [1.0, -1.0, -1.0],
        "BRANCH_NEQ" => [0.0, 1.0, 1.0],
        _ => return None,
    })
}

/// An integer-list attribute that must be present.
fn ints(ctx: &NodeCtx<'_>, name: &str) -> Result<Vec<i64>, ImportError> {
    ctx.attr_ints(name)?
        .ok_or_else(|| ctx.bad_attr(name, "is missing"))
}

/// Floats from `name` or its `name_as_tensor` twin (ai.onnx.ml opset 3).
fn floats(ctx: &NodeCtx<'_>, name: &str) -> Result<Option<Vec<f32>>, ImportError> {
    if let Some(v) = ctx.attr_floats(name)? {
        return Ok(Some(v));
    }
    match ctx.attr_tensor(&format!("{name}_as_tensor"))? {
        None => Ok(None),
        Some(t) => Ok(Some(crate::onnx::tensor::decode(t, name)?.to_f32())),
    }
}

/// Reads the node attributes and walks every tree from its root.
fn read_forest(ctx: &NodeCtx<'_>, features: usize) -> Result<Forest, ImportError> {
    let tree_ids = ints(ctx, "nodes_treeids")?;
    let node_ids = ints(ctx, "nodes_nodeids")?;
    let feature_ids = ints(ctx, "nodes_featureids")?;
    let values = floats(ctx, "nodes_values")?.unwrap_or_default();
    let modes = ctx
        .attr_strings("nodes_modes")?
        .ok_or_else(|| ctx.bad_attr("nodes_modes", "is missing"))?;
    let true_ids = ints(ctx, "nodes_truenodeids")?;
    let false_ids = ints(ctx, "nodes_falsenodeids")?;
    let n = tree_ids.len();
    for (name, len) in [
        ("nodes_nodeids", node_ids.len()),
        ("nodes_featureids", feature_ids.len()),
        ("nodes_values", values.len()),
        ("nodes_modes", modes.len()),
        ("nodes_truenodeids", true_ids.len()),
        ("nodes_falsenodeids", false_ids.len()),
    ] {
        if len != n {
            return Err(ctx.bad_attr(name, format!("holds {len} values; nodes_treeids holds {n}")));
        }
    }
    let at: HashMap<(i64, i64), usize> = (0..n).map(|k| ((tree_ids[k], node_ids[k]), k)).collect();
    // Tree ids in order of first appearance.
    let mut order: Vec<i64> = Vec::new();
    for &t in &tree_ids {
        if !order.contains(&t) {
            order.push(t);
        }
    }
    let mut forest = Forest {
        branches: Vec::new(),
        trees: Vec::new(),
        leaf_index: HashMap::new(),
    };
    let mut n_leaves = 0;
    for &t in &order {
        // The root is the tree's node that no other node points to.
        let children: std::collections::HashSet<i64> = (0..n)
            .filter(|&k| tree_ids[k] == t && modes[k] != "LEAF")
            .flat_map(|k| [true_ids[k], false_ids[k]])
            .collect();
        let root = (0..n)
            .find(|&k| tree_ids[k] == t && !children.contains(&node_ids[k]))
            .ok_or_else(|| ctx.bad_node(format!("tree {t} has no root")))?;
        let mut leaves = Vec::new();
        let mut branch_of: HashMap<usize, usize> = HashMap::new();
        let mut stack = vec![(root, Vec::<(usize, bool)>::new())];
        let mut visited = 0usize;
        while let Some((k, path)) = stack.pop() {
            visited += 1;
            if visited > n || path.len() > 64 {
                return Err(ctx.bad_node(format!("tree {t} has a cycle or is deeper than 64")));
            }
            if modes[k] == "LEAF" {
                forest.leaf_index.insert((t, node_ids[k]), n_leaves);
                n_leaves += 1;
                leaves.push(Leaf { path });
                continue;
            }
            let form = mode_form(&modes[k]).ok_or_else(|| {
                ctx.bad_attr("nodes_modes", format!("`{}` is not a known mode", modes[k]))
            })?;
            let feature = usize::try_from(feature_ids[k])
                .ok()
                .filter(|&f| f < features)
                .ok_or_else(|| {
                    ctx.shape_err(format!(
                        "node {} of tree {t} reads feature {} of {features}",
                        node_ids[k], feature_ids[k]
                    ))
                })?;
            let b = *branch_of.entry(k).or_insert_with(|| {
                forest.branches.push(Branch {
                    feature,
                    threshold: values[k],
                    form,
                });
                forest.branches.len() - 1
            });
            for (child, took) in [(false_ids[k], false), (true_ids[k], true)] {
                let &c = at.get(&(t, child)).ok_or_else(|| {
                    ctx.bad_node(format!(
                        "tree {t}: node {} points to missing node {child}",
                        node_ids[k]
                    ))
                })?;
                let mut p = path.clone();
                p.push((b, took));
                stack.push((c, p));
            }
        }
        forest.trees.push(leaves);
    }
    if n_leaves == 0 {
        return Err(ctx.bad_node("the ensemble has no leaves"));
    }
    Ok(forest)
}

/// The leaf weights as a `[targets, leaves]` matrix from `{prefix}_treeids/nodeids/ids/weights`.
fn leaf_weights(
    ctx: &NodeCtx<'_>,
    forest: &Forest,
    prefix: &str,
    targets: usize,
) -> Result<Vec<f32>, ImportError> {
    let tree = ints(ctx, &format!("{prefix}_treeids"))?;
    let node = ints(ctx, &format!("{prefix}_nodeids"))?;
    let ids = ints(ctx, &format!("{prefix}_ids"))?;
    let weights = floats(ctx, &format!("{prefix}_weights"))?.unwrap_or_default();
    let n_leaves = forest.leaf_index.len();
    let mut w = vec![0.0f32; targets * n_leaves];
    if node.len() != tree.len() || ids.len() != tree.len() || weights.len() != tree.len() {
        return Err(ctx.bad_attr(
            &format!("{prefix}_weights"),
            "lengths of the leaf lists differ",
        ));
    }
    for k in 0..tree.len() {
        let &l = forest.leaf_index.get(&(tree[k], node[k])).ok_or_else(|| {
            ctx.bad_attr(
                &format!("{prefix}_nodeids"),
                format!("node {} of tree {} is not a leaf", node[k], tree[k]),
            )
        })?;
        let target = usize::try_from(ids[k])
            .ok()
            .filter(|&i| i < targets)
            .ok_or_else(|| {
                ctx.bad_attr(
                    &format!("{prefix}_ids"),
                    format!("{} is out of range 0..{targets}", ids[k]),
                )
            })?;
        w[target * n_leaves + l] += weights[k];
    }
    Ok(w)
}

/// The leaf indicators `[rows, leaves]` of every sample.
fn leaves<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    x: TensorId,
    rows: usize,
    features: usize,
    forest: &Forest,
) -> Result<TensorId, ImportError> {
    let nb = forest.branches.len();
    let index = (0..rows)
        .flat_map(|r| {
            forest
                .branches
                .iter()
                .map(move |b| r * features + b.feature)
        })
        .collect();
    let xs = push_sub(
        imp,
        ctx,
        "features",
        Op::Select { index },
        vec![x],
        vec![rows, nb],
    )?;
    let constant = (0..rows)
        .flat_map(|_| forest.branches.iter().map(|b| -b.threshold))
        .collect();
    let d = push_sub(
        imp,
        ctx,
        "minus_threshold",
        Op::AddConst { constant },
        vec![xs],
        vec![rows, nb],
    )?;
    let sign = Op::Unary {
        func: UnaryFn::Sign,
    };
    let s = push_sub(imp, ctx, "sign", sign, vec![d], vec![rows, nb])?;
    let p = push_sub(imp, ctx, "above", Op::Relu, vec![s], vec![rows, nb])?;
    let neg = Op::MulConst {
        constant: vec![-1.0; rows * nb],
    };
    let ns = push_sub(imp, ctx, "neg", neg, vec![s], vec![rows, nb])?;
    let m = push_sub(imp, ctx, "below", Op::Relu, vec![ns], vec![rows, nb])?;
    let mut per_tree = Vec::with_capacity(forest.trees.len());
    for (t, tree) in forest.trees.iter().enumerate() {
        // This tree's branches, in first-use order, as columns [p..., m...].
        let mut cols: Vec<usize> = Vec::new();
        for leaf in tree {
            for &(b, _) in &leaf.path {
                if !cols.contains(&b) {
                    cols.push(b);
                }
            }
        }
        let nl = tree.len();
        let leaf_pre = if cols.is_empty() {
            // A single-leaf tree: always reached (a constant 1 from p·0 + 1).
            let index = (0..rows).map(|r| r * nb).collect();
            let one = push_sub(
                imp,
                ctx,
                &format!("tree{t}/anchor"),
                Op::Select { index },
                vec![p],
                vec![rows, 1],
            )?;
            let op = Op::Linear {
                weight: vec![0.0; nl],
                bias: vec![1.0; nl],
                n_in: 1,
                n_out: nl,
            };
            push_sub(
                imp,
                ctx,
                &format!("tree{t}/leaf"),
                op,
                vec![one],
                vec![rows, nl],
            )?
        } else {
            let nc = cols.len();
            let index = (0..rows)
                .flat_map(|r| {
                    let cols = &cols;
                    (0..2 * nc).map(move |k| {
                        let b = cols[k % nc];
                        if k < nc {
                            r * nb + b
                        } else {
                            rows * nb + r * nb + b
                        }
                    })
                })
                .collect();
            let pm = push_sub(
                imp,
                ctx,
                &format!("tree{t}/conditions"),
                Op::Select { index },
                vec![p, m],
                vec![rows, 2 * nc],
            )?;
            let mut weight = vec![0.0f32; nl * 2 * nc];
            let mut bias = vec![0.0f32; nl];
            for (l, leaf) in tree.iter().enumerate() {
                let mut c = -(leaf.path.len() as f32 - 1.0);
                for &(b, took) in &leaf.path {
                    let col = cols.iter().position(|&x| x == b).unwrap_or(0);
                    let form = forest.branches[b].form;
                    let sign = if took { 1.0 } else { -1.0 };
                    c += if took { form[0] } else { 1.0 - form[0] };
                    weight[l * 2 * nc + col] += sign * form[1];
                    weight[l * 2 * nc + nc + col] += sign * form[2];
                }
                bias[l] = c;
            }
            let op = Op::Linear {
                weight,
                bias,
                n_in: 2 * nc,
                n_out: nl,
            };
            let pre = push_sub(
                imp,
                ctx,
                &format!("tree{t}/paths"),
                op,
                vec![pm],
                vec![rows, nl],
            )?;
            push_sub(
                imp,
                ctx,
                &format!("tree{t}/leaf"),
                Op::Relu,
                vec![pre],
                vec![rows, nl],
            )?
        };
        per_tree.push(leaf_pre);
    }
    if per_tree.len() == 1 {
        return Ok(per_tree[0]);
    }
    let counts: Vec<usize> = forest.trees.iter().map(Vec::len).collect();
    let total: usize = counts.iter().sum();
    let mut index = Vec::with_capacity(rows * total);
    for r in 0..rows {
        let mut base = 0;
        for &c in &counts {
            index.extend((0..c).map(|l| base + r * c + l));
            base += rows * c;
        }
    }
    push_sub(
        imp,
        ctx,
        "leaves",
        Op::Select { index },
        per_tree,
        vec![rows, total],
    )
}

/// The index of the first maximum of each row of `s` `[rows, c]`, as `[rows, 1]`:
/// `c - max_j((c - j)·[s_j == max s])`.
fn first_argmax<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
    s: TensorId,
    rows: usize,
    c: usize,
) -> Result<TensorId, ImportError> {
    let sh = vec![rows, c];
    let max = push_sub(
        imp,
        ctx,
        "label/max",
        Op::ReduceMax { group: c },
        vec![s],
        vec![rows, 1],
    )?;
    let index = (0..rows * c).map(|i| i / c).collect();
    let maxb = push_sub(
        imp,
        ctx,
        "label/max/rows",
        Op::Select { index },
        vec![max],
        sh.clone(),
    )?;
    let d = push_sub(
        imp,
        ctx,
        "label/shifted",
        Op::Sub,
        vec![s, maxb],
        sh.clone(),
    )?;
    let sign = Op::Unary {
        func: UnaryFn::Sign,
    };
    let sd = push_sub(imp, ctx, "label/sign", sign, vec![d], sh.clone())?;
    let abs = Op::Elementwise { op: ElementOp::Abs };
    let a = push_sub(imp, ctx, "label/abs", abs, vec![sd], sh.clone())?;
    // (c - j)·(1 - |sign|) = (c - j) - (c - j)·|sign|.
    let w: Vec<f32> = (0..rows * c).map(|i| (c - i % c) as f32).collect();
    let neg: Vec<f32> = w.iter().map(|v| -v).collect();
    let wa = push_sub(
        imp,
        ctx,
        "label/weighted",
        Op::MulConst { constant: neg },
        vec![a],
        sh.clone(),
    )?;
    let wm = push_sub(
        imp,
        ctx,
        "label/is_max",
        Op::AddConst { constant: w },
        vec![wa],
        sh,
    )?;
    let best = push_sub(
        imp,
        ctx,
        "label/best",
        Op::ReduceMax { group: c },
        vec![wm],
        vec![rows, 1],
    )?;
    let flip = Op::MulConst {
        constant: vec![-1.0; rows],
    };
    let nb = push_sub(imp, ctx, "label/flip", flip, vec![best], vec![rows, 1])?;
    let op = Op::AddConst {
        constant: vec![c as f32; rows],
    };
    push_sub(imp, ctx, "label/index", op, vec![nb], vec![rows, 1])
}

/// `TreeEnsembleClassifier` (outputs: label, scores) and `TreeEnsembleRegressor` (output: Y).
pub(crate) fn tree_ensemble<'g>(
    imp: &mut Importer<'g>,
    ctx: &NodeCtx<'g>,
) -> Result<(), ImportError> {
    let x = match imp.input(ctx, 0)? {
        Value::Tensor(t) => t,
        Value::Const(_) => return Err(ctx.unsupported("input X is a constant")),
    };
    let dims = imp.shape(x).to_vec();
    let (rows, features) = match dims.as_slice() {
        [f] => (1, *f),
        [n, f] => (*n, *f),
        _ => return Err(ctx.shape_err(format!("input X must be [N, F], got {dims:?}"))),
    };
    let classifier = ctx.op() == "TreeEnsembleClassifier";
    let forest = read_forest(ctx, features)?;
    let (targets, labels, weights) = if classifier {
        let labels = match ctx.attr_ints("classlabels_int64s")? {
            Some(l) => l,
            None if ctx.attr("classlabels_strings").is_some() => {
                return Err(ctx.unsupported("string class labels (classlabels_strings)"))
            }
            None => return Err(ctx.bad_attr("classlabels_int64s", "is missing")),
        };
        let c = labels.len();
        let w = leaf_weights(ctx, &forest, "class", c.max(1))?;
        let used: std::collections::HashSet<i64> = ints(ctx, "class_ids")?.into_iter().collect();
        if c == 2 && used.len() == 1 {
            return Err(ctx.unsupported(
                "a binary classifier with one score column (export its two class scores)",
            ));
        }
        (c, labels, w)
    } else {
        let n = usize::try_from(ctx.attr_int("n_targets", 1)?)
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| ctx.bad_attr("n_targets", "must be positive"))?;
        let mut w = leaf_weights(ctx, &forest, "target", n)?;
        match ctx.attr_string("aggregate_function")?.as_deref() {
            None | Some("SUM") => {}
            Some("AVERAGE") => {
                let k = forest.trees.len() as f32;
                w.iter_mut().for_each(|v| *v /= k);
            }
            Some(other) => {
                return Err(
                    ctx.unsupported(format!("aggregate_function {other}: only SUM and AVERAGE"))
                )
            }
        }
        (n, Vec::new(), w)
    };
    let base = floats(ctx, "base_values")?.unwrap_or_else(|| vec![0.0; targets]);
    if base.len() != targets {
        return Err(ctx.bad_attr(
            "base_values",
            format!("holds {} values; expected {targets}", base.len()),
        ));
    }
    let leaf = leaves(imp, ctx, x, rows, features, &forest)?;
    let op = Op::Linear {
        weight: weights,
        bias: base,
        n_in: forest.leaf_index.len(),
        n_out: targets,
    };
    let raw = push_sub(imp, ctx, "scores", op, vec![leaf], vec![rows, targets])?;
    let scores = match ctx.attr_string("post_transform")?.as_deref() {
        None | Some("NONE") => raw,
        Some("SOFTMAX") => push_sub(
            imp,
            ctx,
            "softmax",
            Op::Softmax { group: targets },
            vec![raw],
            vec![rows, targets],
        )?,
        Some("LOGISTIC") => {
            let op = Op::Unary {
                func: UnaryFn::Sigmoid,
            };
            push_sub(imp, ctx, "logistic", op, vec![raw], vec![rows, targets])?
        }
        Some(other) => return Err(ctx.unsupported(format!("post_transform {other}"))),
    };
    let outputs: Vec<&'g str> = ctx.proto.output.iter().map(String::as_str).collect();
    if classifier {
        if let Some(&name) = outputs.get(1).filter(|n| !n.is_empty()) {
            imp.bind(name, Value::Tensor(scores));
        }
        if let Some(&name) = outputs.first().filter(|n| !n.is_empty()) {
            let idx = first_argmax(imp, ctx, raw, rows, targets)?;
            let identity = labels.iter().enumerate().all(|(i, &l)| l == i as i64);
            let label = if identity {
                imp.push(ctx, ctx.name.clone(), Op::Reshape, vec![idx], vec![rows])?
            } else {
                // label = Σ_c labels[c]·[idx == c].
                let pairs: Vec<(usize, usize)> = (0..rows * targets)
                    .map(|p| (p / targets, p % targets))
                    .collect();
                let eq = equals(imp, ctx, idx, &pairs, "label")?;
                let eq = push_sub(
                    imp,
                    ctx,
                    "label/onehot",
                    Op::Reshape,
                    vec![eq],
                    vec![rows, targets],
                )?;
                let op = Op::Linear {
                    weight: labels.iter().map(|&l| l as f32).collect(),
                    bias: vec![0.0],
                    n_in: targets,
                    n_out: 1,
                };
                let l = push_sub(imp, ctx, "label/value", op, vec![eq], vec![rows, 1])?;
                imp.push(ctx, ctx.name.clone(), Op::Reshape, vec![l], vec![rows])?
            };
            imp.bind(name, Value::Tensor(label));
        }
    } else if let Some(&name) = outputs.first() {
        imp.bind(name, Value::Tensor(scores));
    }
    Ok(())
}
