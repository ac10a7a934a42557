//! RNN, GRU and LSTM: the unrolled graphs against a direct f64 transcription of the ONNX
//! equations, and the unsupported attributes and inputs.
// The reference indexes like the spec's equations.
#![allow(clippy::unwrap_used, clippy::panic, clippy::needless_range_loop)]

use crate::util::*;
use zkinfer_compiler::graph::Graph;
use zkinfer_compiler::onnx::encode::*;
use zkinfer_compiler::onnx::proto::{AttributeProto, TensorProto};
use zkinfer_compiler::onnx::{import_bytes, ImportError};

/// How the initial hidden state is given.
#[derive(Clone, Copy, PartialEq)]
enum Init {
    Absent,
    Const,
    /// A second graph input.
    Input,
}

/// One recurrent node to import and check.
#[derive(Clone)]
struct Case {
    op: &'static str,
    seq: usize,
    batch: usize,
    input: usize,
    hidden: usize,
    direction: &'static str,
    bias: bool,
    lbr: i64,
    layout: i64,
    acts: Option<Vec<&'static str>>,
    h0: Init,
    /// LSTM: constant initial cell state and peepholes.
    c0: bool,
    peep: bool,
}

fn case(op: &'static str) -> Case {
    Case {
        op,
        seq: 3,
        batch: 1,
        input: 3,
        hidden: 2,
        direction: "forward",
        bias: true,
        lbr: 0,
        layout: 0,
        acts: None,
        h0: Init::Absent,
        c0: false,
        peep: false,
    }
}

impl Case {
    fn gates(&self) -> usize {
        match self.op {
            "RNN" => 1,
            "GRU" => 3,
            _ => 4,
        }
    }

    fn dirs(&self) -> usize {
        if self.direction == "bidirectional" {
            2
        } else {
            1
        }
    }

    /// `[dirs, batch, hidden]` or, batch-major, `[batch, dirs, hidden]`.
    fn state_dims(&self) -> Vec<usize> {
        if self.layout == 1 {
            vec![self.batch, self.dirs(), self.hidden]
        } else {
            vec![self.dirs(), self.batch, self.hidden]
        }
    }

    fn x_dims(&self) -> Vec<usize> {
        if self.layout == 1 {
            vec![self.batch, self.seq, self.input]
        } else {
            vec![self.seq, self.batch, self.input]
        }
    }
}

/// Deterministic values in `[-scale, scale)`.
fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// The constants of a case: W, R, B, initial_h, initial_c, P (absent ones empty).
struct Weights {
    w: Vec<f32>,
    r: Vec<f32>,
    b: Vec<f32>,
    h0: Vec<f32>,
    c0: Vec<f32>,
    p: Vec<f32>,
}

fn weights(c: &Case) -> Weights {
    let (d, gh, h) = (c.dirs(), c.gates() * c.hidden, c.hidden);
    let state = d * c.batch * h;
    Weights {
        w: values(d * gh * c.input, 1, 0.8),
        r: values(d * gh * h, 2, 0.8),
        b: if c.bias {
            values(d * 2 * gh, 3, 0.5)
        } else {
            vec![]
        },
        h0: if c.h0 == Init::Absent {
            vec![]
        } else {
            values(state, 4, 0.9)
        },
        c0: if c.c0 { values(state, 5, 0.9) } else { vec![] },
        p: if c.peep {
            values(d * 3 * h, 6, 0.7)
        } else {
            vec![]
        },
    }
}

/// The model of a case: graph inputs `x` (and `h0` for [`Init::Input`]), outputs `Y`, `Y_h`
/// and, for LSTM, `Y_c`, laid end to end.
fn model_of(c: &Case, wt: &Weights, extra: Vec<AttributeProto>) -> Vec<u8> {
    let (d, gh, h) = (c.dirs(), c.gates() * c.hidden, c.hidden);
    let mut inits = vec![
        float_tensor("W", &[d, gh, c.input], &wt.w),
        float_tensor("R", &[d, gh, h], &wt.r),
    ];
    let mut ins = vec!["x", "W", "R", "", "", ""];
    if c.bias {
        inits.push(float_tensor("B", &[d, 2 * gh], &wt.b));
        ins[3] = "B";
    }
    if c.h0 == Init::Const {
        inits.push(float_tensor("h0", &c.state_dims(), &wt.h0));
    }
    if c.h0 != Init::Absent {
        ins[5] = "h0";
    }
    if c.c0 {
        inits.push(float_tensor("c0", &c.state_dims(), &wt.c0));
        ins.push("c0");
    }
    if c.peep {
        inits.push(float_tensor("P", &[d, 3 * h], &wt.p));
        ins.resize(7, "");
        ins.push("P");
    }
    let mut attrs = vec![
        attr_int("hidden_size", h as i64),
        attr_string("direction", c.direction),
        attr_int("layout", c.layout),
    ];
    if c.op == "GRU" {
        attrs.push(attr_int("linear_before_reset", c.lbr));
    }
    if let Some(a) = &c.acts {
        attrs.push(attr_strings("activations", a));
    }
    attrs.extend(extra);
    let lstm = c.op == "LSTM";
    let outs: &[&str] = if lstm {
        &["y", "yh", "yc"]
    } else {
        &["y", "yh"]
    };
    let nodes = vec![node(c.op, "/rnn", &ins, outs, attrs)];
    let mut g = graph(
        nodes,
        inits,
        value_info_fixed("x", &c.x_dims()),
        value_info_unshaped("y"),
    );
    if c.h0 == Init::Input {
        g.input.push(value_info_fixed("h0", &c.state_dims()));
    }
    g.output.push(value_info_unshaped("yh"));
    if lstm {
        g.output.push(value_info_unshaped("yc"));
    }
    prost::Message::encode_to_vec(&model(g))
}

fn act(name: &str) -> fn(f64) -> f64 {
    match name {
        "Sigmoid" => |x| 1.0 / (1.0 + (-x).exp()),
        "Relu" => |x: f64| x.max(0.0),
        "Softsign" => |x: f64| x / (1.0 + x.abs()),
        _ => f64::tanh,
    }
}

/// `Y`, `Y_h` (and `Y_c`) of the ONNX equations, straight from the operator spec.
fn reference(c: &Case, wt: &Weights, x: &[f64]) -> Vec<f64> {
    let (dirs, g, h, n_in, batch, seq) = (c.dirs(), c.gates(), c.hidden, c.input, c.batch, c.seq);
    let gh = g * h;
    let defaults: &[&str] = match c.op {
        "RNN" => &["Tanh"],
        "GRU" => &["Sigmoid", "Tanh"],
        _ => &["Sigmoid", "Tanh", "Tanh"],
    };
    let names: Vec<&str> = c.acts.clone().unwrap_or_else(|| defaults.to_vec());
    let per = defaults.len();
    let xat = |t: usize, b: usize, i: usize| {
        let row = if c.layout == 1 {
            b * seq + t
        } else {
            t * batch + b
        };
        x[row * n_in + i]
    };
    let st = |d: usize, b: usize, k: usize| {
        let row = if c.layout == 1 {
            b * dirs + d
        } else {
            d * batch + b
        };
        row * h + k
    };
    let f32s = |v: &[f32], i: usize| v.get(i).map_or(0.0, |&x| f64::from(x));
    let mut y = vec![0.0; seq * dirs * batch * h];
    let mut yh = vec![0.0; dirs * batch * h];
    let mut yc = vec![0.0; dirs * batch * h];
    for d in 0..dirs {
        let a: Vec<fn(f64) -> f64> = (0..per)
            .map(|k| act(names.get(d * per + k).or(names.get(k)).unwrap()))
            .collect();
        // Xt·Wᵀ + Wb for gate row `row`, H·Rᵀ + Rb likewise.
        let wx = |t: usize, b: usize, row: usize| {
            let s: f64 = (0..n_in)
                .map(|i| f32s(&wt.w, (d * gh + row) * n_in + i) * xat(t, b, i))
                .sum();
            s + f32s(&wt.b, d * 2 * gh + row)
        };
        let rh = |hv: &[f64], row: usize| {
            let s: f64 = (0..h)
                .map(|j| f32s(&wt.r, (d * gh + row) * h + j) * hv[j])
                .sum();
            s + f32s(&wt.b, d * 2 * gh + gh + row)
        };
        for b in 0..batch {
            let mut hv: Vec<f64> = (0..h).map(|k| f32s(&wt.h0, st(d, b, k))).collect();
            let mut cv: Vec<f64> = (0..h).map(|k| f32s(&wt.c0, st(d, b, k))).collect();
            let backward = c.direction == "reverse" || d == 1;
            for s in 0..seq {
                let t = if backward { seq - 1 - s } else { s };
                let mut nh = vec![0.0; h];
                match c.op {
                    "RNN" => {
                        for k in 0..h {
                            nh[k] = a[0](wx(t, b, k) + rh(&hv, k));
                        }
                    }
                    "GRU" => {
                        let z: Vec<f64> = (0..h).map(|k| a[0](wx(t, b, k) + rh(&hv, k))).collect();
                        let r: Vec<f64> = (0..h)
                            .map(|k| a[0](wx(t, b, h + k) + rh(&hv, h + k)))
                            .collect();
                        let rhv: Vec<f64> = (0..h).map(|k| r[k] * hv[k]).collect();
                        for k in 0..h {
                            let rec = if c.lbr == 0 {
                                rh(&rhv, 2 * h + k)
                            } else {
                                r[k] * rh(&hv, 2 * h + k)
                            };
                            let cand = a[1](wx(t, b, 2 * h + k) + rec);
                            nh[k] = (1.0 - z[k]) * cand + z[k] * hv[k];
                        }
                    }
                    _ => {
                        let p = |gate: usize, k: usize| f32s(&wt.p, d * 3 * h + gate * h + k);
                        let mut nc = vec![0.0; h];
                        for k in 0..h {
                            let i = a[0](wx(t, b, k) + rh(&hv, k) + p(0, k) * cv[k]);
                            let f =
                                a[0](wx(t, b, 2 * h + k) + rh(&hv, 2 * h + k) + p(2, k) * cv[k]);
                            let cc = a[1](wx(t, b, 3 * h + k) + rh(&hv, 3 * h + k));
                            nc[k] = f * cv[k] + i * cc;
                            let o = a[0](wx(t, b, h + k) + rh(&hv, h + k) + p(1, k) * nc[k]);
                            nh[k] = o * a[2](nc[k]);
                        }
                        cv = nc;
                    }
                }
                hv = nh;
                for k in 0..h {
                    let pos = if c.layout == 1 {
                        ((b * seq + t) * dirs + d) * h + k
                    } else {
                        ((t * dirs + d) * batch + b) * h + k
                    };
                    y[pos] = hv[k];
                }
            }
            for k in 0..h {
                yh[st(d, b, k)] = hv[k];
                yc[st(d, b, k)] = cv[k];
            }
        }
    }
    y.extend(yh);
    if c.op == "LSTM" {
        y.extend(yc);
    }
    y
}

/// Imports a case and checks every output against the reference; returns the graph.
fn check(c: &Case) -> Graph {
    let wt = weights(c);
    let g = import_bytes(&model_of(c, &wt, vec![])).unwrap_or_else(|e| panic!("import: {e}"));
    let nx: usize = c.x_dims().iter().product();
    let mut x: Vec<f64> = values(nx, 9, 1.5).into_iter().map(f64::from).collect();
    if c.h0 == Init::Input {
        x.extend(wt.h0.iter().map(|&v| f64::from(v)));
    }
    let got = run(&g, &x);
    let want = reference(c, &wt, &x);
    assert_eq!(got.len(), want.len(), "output size");
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!((a - b).abs() < 1e-5, "{} [{i}]: {got:?} vs {want:?}", c.op);
    }
    g
}

fn with(c: Case, f: impl FnOnce(&mut Case)) -> Case {
    let mut c = c;
    f(&mut c);
    c
}

#[test]
fn rnn_matches_the_equations() {
    let g = check(&case("RNN"));
    // One projection Linear for every step, one recurrence Linear per step after the first.
    assert_eq!(kinds(&g).iter().filter(|k| **k == "Linear").count(), 3);
    check(&with(case("RNN"), |c| c.direction = "reverse"));
    check(&with(case("RNN"), |c| c.bias = false));
    check(&with(case("RNN"), |c| {
        c.direction = "bidirectional";
        c.batch = 2;
        c.acts = Some(vec!["Relu", "Tanh"]);
        c.h0 = Init::Const;
    }));
    check(&with(case("RNN"), |c| {
        c.acts = Some(vec!["Softsign"]);
        c.layout = 1;
        c.batch = 2;
    }));
}

#[test]
fn gru_matches_the_equations_before_and_after_reset() {
    for lbr in [0, 1] {
        let base = with(case("GRU"), |c| c.lbr = lbr);
        check(&base);
        check(&with(base.clone(), |c| c.bias = false));
        check(&with(base.clone(), |c| c.direction = "reverse"));
        check(&with(base.clone(), |c| {
            c.direction = "bidirectional";
            c.h0 = Init::Const;
            c.batch = 2;
        }));
        check(&with(base.clone(), |c| {
            c.h0 = Init::Input;
            c.layout = 1;
            c.batch = 2;
        }));
    }
}

#[test]
fn lstm_matches_the_equations() {
    let g = check(&case("LSTM"));
    assert_eq!(kinds(&g).iter().filter(|k| **k == "Linear").count(), 3);
    check(&with(case("LSTM"), |c| c.bias = false));
    check(&with(case("LSTM"), |c| c.direction = "reverse"));
    check(&with(case("LSTM"), |c| {
        c.direction = "bidirectional";
        c.batch = 2;
        c.h0 = Init::Const;
        c.c0 = true;
        c.peep = true;
    }));
    check(&with(case("LSTM"), |c| {
        c.layout = 1;
        c.batch = 2;
        c.h0 = Init::Input;
        c.peep = true;
        c.acts = Some(vec!["Sigmoid", "Relu", "Tanh"]);
    }));
}

/// The import error of `c` with extra attributes `attrs` and node inputs replaced by `inputs`.
fn error_of(
    c: &Case,
    attrs: Vec<AttributeProto>,
    inputs: Option<(&[&str], Vec<TensorProto>)>,
) -> ImportError {
    let wt = weights(c);
    let bytes = match inputs {
        None => model_of(c, &wt, attrs),
        Some((ins, extra)) => {
            let (d, gh, h) = (c.dirs(), c.gates() * c.hidden, c.hidden);
            let mut inits = vec![
                float_tensor("W", &[d, gh, c.input], &wt.w),
                float_tensor("R", &[d, gh, h], &wt.r),
            ];
            inits.extend(extra);
            let nodes = vec![
                node("Relu", "/relu", &["x"], &["rx"], vec![]),
                node(c.op, "/rnn", ins, &["y"], attrs),
            ];
            model_with_opset(nodes, inits, &c.x_dims(), OPSET)
        }
    };
    match import_bytes(&bytes) {
        Ok(_) => panic!("import unexpectedly succeeded"),
        Err(e) => e,
    }
}

fn bad_attr(e: &ImportError) -> &str {
    match e {
        ImportError::BadAttribute { attr, node, .. } if node == "/rnn" => attr,
        other => panic!("expected a BadAttribute error at /rnn, got {other:?}"),
    }
}

#[test]
fn unsupported_attributes_are_named() {
    let e = error_of(&case("LSTM"), vec![attr_float("clip", 3.0)], None);
    assert_eq!(bad_attr(&e), "clip");
    let e = error_of(&case("LSTM"), vec![attr_int("input_forget", 1)], None);
    assert_eq!(bad_attr(&e), "input_forget");
    let c = with(case("LSTM"), |c| {
        c.acts = Some(vec!["HardSigmoid", "Tanh", "Tanh"])
    });
    let e = error_of(&c, vec![], None);
    assert_eq!(bad_attr(&e), "activations");
    assert!(e.to_string().contains("HardSigmoid"), "{e}");
    let c = with(case("GRU"), |c| c.acts = Some(vec!["Sigmoid"]));
    assert_eq!(bad_attr(&error_of(&c, vec![], None)), "activations");
    let e = error_of(&with(case("GRU"), |c| c.lbr = 2), vec![], None);
    assert_eq!(bad_attr(&e), "linear_before_reset");
    let e = error_of(
        &with(case("RNN"), |c| c.direction = "sideways"),
        vec![],
        None,
    );
    assert_eq!(bad_attr(&e), "direction");
}

#[test]
fn sequence_lens_must_be_the_full_constant_length() {
    let c = case("RNN");
    // Computed from the graph input.
    let e = error_of(&c, vec![], Some((&["x", "W", "R", "", "rx"], vec![])));
    assert!(
        matches!(&e, ImportError::UnsupportedUse { node, reason, .. }
            if node == "/rnn" && reason.contains("sequence_lens")),
        "{e:?}"
    );
    // A constant shorter than the sequence.
    let lens = int64_tensor("lens", &[1], &[2]);
    let e = error_of(&c, vec![], Some((&["x", "W", "R", "", "lens"], vec![lens])));
    assert!(
        matches!(&e, ImportError::UnsupportedUse { reason, .. } if reason.contains("[2.0]")),
        "{e:?}"
    );
    // The full length is accepted.
    let wt = weights(&c);
    let inits = vec![
        float_tensor("W", &[1, 2, 3], &wt.w),
        float_tensor("R", &[1, 2, 2], &wt.r),
        int64_tensor("lens", &[1], &[3]),
    ];
    let ins = ["x", "W", "R", "", "lens"];
    let nodes = vec![node(
        "RNN",
        "/rnn",
        &ins,
        &["y"],
        vec![attr_int("hidden_size", 2)],
    )];
    assert_eq!(out_shape(&import(nodes, inits, &[3, 1, 3])), [3, 1, 1, 2]);
}

#[test]
fn weights_must_be_constants_of_the_right_shape() {
    let c = case("GRU");
    let e = error_of(&c, vec![], Some((&["x", "rx", "R"], vec![])));
    assert!(
        matches!(&e, ImportError::NotConstant { name, .. } if name == "rx"),
        "{e:?}"
    );
    let wrong = float_tensor("W2", &[1, 6, 2], &[0.0; 12]);
    let e = error_of(&c, vec![], Some((&["x", "W2", "R"], vec![wrong])));
    assert!(
        matches!(&e, ImportError::ShapeMismatch { node, .. } if node == "/rnn"),
        "{e:?}"
    );
}

#[test]
fn only_the_named_outputs_are_bound() {
    // Y_h alone (Y unnamed), as PyTorch exports a classifier's last state.
    let c = with(case("LSTM"), |c| c.bias = false);
    let wt = weights(&c);
    let inits = vec![
        float_tensor("W", &[1, 8, 3], &wt.w),
        float_tensor("R", &[1, 8, 2], &wt.r),
    ];
    let nodes = vec![node(
        "LSTM",
        "/rnn",
        &["x", "W", "R"],
        &["", "y"],
        vec![attr_int("hidden_size", 2)],
    )];
    let g = import(nodes, inits, &[3, 1, 3]);
    assert_eq!(out_shape(&g), [1, 1, 2]);
    assert_eq!(g.nodes.last().unwrap().name, "/rnn/Y_h");
    let x: Vec<f64> = values(9, 9, 1.5).into_iter().map(f64::from).collect();
    let want = reference(&c, &wt, &x);
    assert_close(&run(&g, &x), &want[6..8]);
}
