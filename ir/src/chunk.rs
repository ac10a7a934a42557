//! Splitting a compiled model into chunks at tensor boundaries, proved one circuit each.
//!
//! A cut after the first `p` nodes is valid when exactly one tensor computed by those nodes
//! is read after them (the boundary) and the graph input is not: the chunk before it outputs
//! the boundary, the chunk after it takes the boundary as its input. Chunk `i`'s output and
//! chunk `i + 1`'s input are both hashed (a salted Poseidon commitment, one salt for every
//! chunk of a proof), with the same bound, so the two circuits commit to the same values the
//! same way: equal commitments link the proofs. The first chunk keeps the model's input
//! visibility and the last its output visibility.

use serde::{Deserialize, Serialize};

use crate::qgraph::{QGraph, QOp, QTensor, TensorId};
use crate::Visibility;

/// Format tag of `chunks.json`.
pub const MANIFEST_FORMAT: &str = "zkinfer-chunks";
/// Version of `chunks.json`.
pub const MANIFEST_VERSION: u32 = 1;

/// Why a model cannot be split as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// A cut position is not a valid boundary.
    #[error("cannot cut after node {after} (`{node}`): {why}")]
    BadCut {
        /// Nodes before the cut.
        after: usize,
        /// The last node before the cut.
        node: String,
        /// Why.
        why: String,
    },
    /// More chunks were asked for than the model has valid boundaries.
    #[error("{wanted} chunks asked for, but the model has only {cuts} valid boundaries (a boundary is a point where exactly one computed tensor is live)")]
    TooFewCuts {
        /// Chunks asked for.
        wanted: usize,
        /// Valid boundaries.
        cuts: usize,
    },
}

/// One valid cut: after `after` nodes, `tensor` (a global tensor id) is the only live value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Nodes before the cut.
    pub after: usize,
    /// The boundary tensor's global id.
    pub tensor: TensorId,
}

/// Largest boundary bound a commitment packs (see `validate`: hashed tensors).
const MAX_BOUNDARY_BOUND: u64 = (1 << 61) - 1;

/// The tensors computed by the first `after` nodes (or the input) that are read after them,
/// or are the output; global ids, increasing.
fn live_after(graph: &QGraph, after: usize) -> Vec<TensorId> {
    let mut live: Vec<TensorId> = graph
        .nodes
        .iter()
        .skip(after)
        .flat_map(|n| n.inputs.iter().copied())
        .chain(std::iter::once(graph.output))
        .filter(|&t| t <= after)
        .collect();
    live.sort_unstable();
    live.dedup();
    live
}

/// Checks one cut position; the boundary tensor when it is valid.
pub fn cut_at(graph: &QGraph, after: usize) -> Result<Cut, ChunkError> {
    let node = graph
        .nodes
        .get(after.wrapping_sub(1))
        .map(|n| n.name.clone())
        .unwrap_or_default();
    let bad = |why: String| ChunkError::BadCut {
        after,
        node: node.clone(),
        why,
    };
    if after == 0 || after >= graph.nodes.len() {
        return Err(bad(format!(
            "a cut lies between two of the {} nodes",
            graph.nodes.len()
        )));
    }
    let live = live_after(graph, after);
    match live.as_slice() {
        [t] if *t > 0 && *t != graph.output => {
            let bound = graph.tensor(*t).map_or(u64::MAX, |x| x.bound);
            if bound > MAX_BOUNDARY_BOUND {
                return Err(bad(format!(
                    "its boundary's bound {bound} is too wide to commit to (at most 2^61 - 1)"
                )));
            }
            Ok(Cut { after, tensor: *t })
        }
        [0] | [] => Err(bad("nothing computed before it is read after it".into())),
        [_] => Err(bad("the output is computed before it".into())),
        many => Err(bad(format!(
            "{} tensors are live across it{}; a boundary carries one",
            many.len(),
            if many.contains(&0) {
                ", the model input among them"
            } else {
                ""
            }
        ))),
    }
}

/// Every valid cut, in node order.
pub fn valid_cuts(graph: &QGraph) -> Vec<Cut> {
    (1..graph.nodes.len())
        .filter_map(|after| cut_at(graph, after).ok())
        .collect()
}

/// Rows a link costs, both ends together, for a boundary like `t`: the commitment on each
/// side (one packing row per value, 74 Poseidon rows per packed element of
/// `⌊253 / bits(2B)⌋` values) and the output side's two bound rows per value.
pub fn link_rows(t: &QTensor) -> u64 {
    let n = t.numel() as u64;
    let bits = u64::from(u64::BITS - t.bound.saturating_mul(2).leading_zeros()).max(1);
    let per = (253 / bits).max(1);
    2 * (1 + n + 74 * n.div_ceil(per)) + 2 * n
}

/// `n` chunks of about equal cost: for each `total · j / n` of the running sum of `cost`
/// (one entry per node), the valid cut that minimises its distance to that target plus its
/// link's rows ([`link_rows`]): so a narrow boundary near the target beats a wide one on it.
pub fn balanced_cuts(graph: &QGraph, n: usize, cost: &[u64]) -> Result<Vec<Cut>, ChunkError> {
    let cuts = valid_cuts(graph);
    if n <= 1 {
        return Ok(Vec::new());
    }
    if n - 1 > cuts.len() {
        return Err(ChunkError::TooFewCuts {
            wanted: n,
            cuts: cuts.len(),
        });
    }
    let prefix = |after: usize| -> u64 { cost.iter().take(after).sum() };
    let total = prefix(graph.nodes.len()).max(1);
    let mut chosen: Vec<Cut> = Vec::with_capacity(n - 1);
    for j in 1..n {
        let target = total * j as u64 / n as u64;
        // Leave room for the cuts still to place.
        let left = n - 1 - j;
        let first = chosen.last().map_or(0, |c| {
            cuts.iter()
                .position(|x| x.after == c.after)
                .map_or(0, |i| i + 1)
        });
        let last = cuts.len() - left;
        let prev = chosen.last().map(|c| c.tensor);
        let best = cuts
            .get(first..last)
            .unwrap_or(&[])
            .iter()
            .filter(|c| Some(c.tensor) != prev)
            .min_by_key(|c| {
                let link = graph.tensor(c.tensor).map_or(0, link_rows);
                prefix(c.after).abs_diff(target) + link
            })
            .copied();
        if let Some(c) = best {
            chosen.push(c);
        }
    }
    Ok(chosen)
}

/// The chunks of `graph` cut at `cuts` (increasing, each valid).
pub fn split(graph: &QGraph, cuts: &[Cut]) -> Result<Vec<QGraph>, ChunkError> {
    for c in cuts {
        let again = cut_at(graph, c.after)?;
        if again != *c {
            return Err(ChunkError::BadCut {
                after: c.after,
                node: String::new(),
                why: "the boundary differs from the graph's".into(),
            });
        }
    }
    if cuts.windows(2).any(|w| w[0].after >= w[1].after) {
        return Err(ChunkError::BadCut {
            after: 0,
            node: String::new(),
            why: "cuts must increase".into(),
        });
    }
    let mut bounds: Vec<(usize, Option<Cut>)> = vec![(0, None)];
    bounds.extend(cuts.iter().map(|c| (c.after, Some(*c))));
    let last = bounds.len() - 1;
    let mut out = Vec::with_capacity(bounds.len());
    for (i, &(start, cut_in)) in bounds.iter().enumerate() {
        let end = bounds.get(i + 1).map_or(graph.nodes.len(), |b| b.0);
        let cut_out = bounds.get(i + 1).and_then(|b| b.1);
        out.push(chunk(graph, start, end, cut_in, cut_out, i == last)?);
    }
    Ok(out)
}

fn chunk(
    graph: &QGraph,
    start: usize,
    end: usize,
    cut_in: Option<Cut>,
    cut_out: Option<Cut>,
    last: bool,
) -> Result<QGraph, ChunkError> {
    let map = |g: TensorId| -> Option<TensorId> {
        match cut_in {
            None if g <= end => Some(g),
            Some(c) if g == c.tensor => Some(0),
            Some(_) if g > start && g <= end => Some(g - start),
            _ => None,
        }
    };
    let mut g = graph.clone();
    let mut nodes = Vec::with_capacity(end - start);
    for (k, n) in graph.nodes.iter().enumerate().take(end).skip(start) {
        let mut n = n.clone();
        for t in &mut n.inputs {
            *t = map(*t).ok_or_else(|| ChunkError::BadCut {
                after: start,
                node: graph
                    .nodes
                    .get(k)
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                why: format!("node {k} reads tensor {t} from before the boundary"),
            })?;
        }
        nodes.push(n);
    }
    // Keep only the tables this chunk reads, renumbered.
    let mut used: Vec<usize> = nodes
        .iter()
        .filter_map(|n| match n.op {
            QOp::Lookup { table } => Some(table),
            _ => None,
        })
        .collect();
    used.sort_unstable();
    used.dedup();
    for n in &mut nodes {
        if let QOp::Lookup { table } = &mut n.op {
            *table = used.iter().position(|u| u == table).unwrap_or(0);
        }
    }
    g.tables = used
        .iter()
        .filter_map(|&t| graph.tables.get(t).cloned())
        .collect();
    g.nodes = nodes;
    if let Some(c) = cut_in {
        let t: QTensor = graph
            .tensor(c.tensor)
            .cloned()
            .unwrap_or_else(|| graph.input.clone());
        g.input = t;
        g.input_name = graph
            .nodes
            .get(c.tensor - 1)
            .map(|n| n.name.clone())
            .unwrap_or_default();
        g.input_parts = Vec::new();
        g.input_part_visibility = Vec::new();
        g.input_kinds = Vec::new();
        g.no_input = false;
        g.input_visibility = Visibility::Hashed;
    }
    match cut_out {
        Some(c) => {
            g.output = map(c.tensor).unwrap_or(0);
            g.output_name = graph
                .nodes
                .get(c.tensor - 1)
                .map(|n| n.name.clone())
                .unwrap_or_default();
            g.output_parts = Vec::new();
            g.output_visibility = Visibility::Hashed;
        }
        None if last => g.output = map(graph.output).unwrap_or(0),
        None => {}
    }
    Ok(g)
}

/// A boundary or end of a chunk, as `chunks.json` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkTensor {
    /// The tensor's name (the node that computes it, or the model input).
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Scale.
    pub scale: u32,
    /// Bound.
    pub bound: u64,
}

/// One chunk in `chunks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkEntry {
    /// Its directory, relative to the model directory (`chunk-0`, ...).
    pub dir: String,
    /// SHA-256 of its `model.zkm` (hex).
    pub model_hash: String,
    /// Nodes of the whole model it holds: `[first, end)`.
    pub nodes: [usize; 2],
    /// What it reads.
    pub input: ChunkTensor,
    /// What it computes.
    pub output: ChunkTensor,
}

/// `chunks.json`: how a model directory's chunks chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkManifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// SHA-256 of the whole model's `model.zkm` (hex).
    pub model_hash: String,
    /// The chunks, in order.
    pub chunks: Vec<ChunkEntry>,
}

/// The manifest entry's view of `graph`'s input or output.
pub fn chunk_tensor(name: &str, t: &QTensor) -> ChunkTensor {
    ChunkTensor {
        name: name.to_string(),
        shape: t.shape.clone(),
        scale: t.scale,
        bound: t.bound,
    }
}

/// Format tag of a chunked model's proof bundle.
pub const BUNDLE_FORMAT: &str = "zkinfer-chunked-proof";

/// `proof.json` of a chunked model: one ordinary proof per chunk, in order. Chunk `i`'s
/// `output_hash` and chunk `i + 1`'s `input_hash` are the link commitments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkedProof {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// Layout version (1).
    pub version: u32,
    /// SHA-256 of the whole model's `model.zkm` (hex).
    pub model_hash: String,
    /// The chunk proofs.
    pub chunks: Vec<crate::proof_file::ProofFile>,
}

impl ChunkedProof {
    /// Whether JSON text is a chunk bundle (its `format` field), without parsing it all.
    pub fn is_bundle(text: &str) -> bool {
        #[derive(Deserialize)]
        struct Head {
            format: String,
        }
        serde_json::from_str::<Head>(text).is_ok_and(|h| h.format == BUNDLE_FORMAT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{graph, node, qtensor};

    fn add(k: i64) -> QOp {
        QOp::Add {
            coef_a: 1,
            coef_b: 0,
            constant: vec![k; 2],
        }
    }

    /// x -> a = x + 1 -> b = a + 2 -> c = a + b (a residual) -> d = c + 3 -> e = d + 4.
    fn residual() -> QGraph {
        let t = |b| qtensor(&[2], 0, b);
        graph(
            t(8),
            vec![
                node("a", add(1), &[0], t(9)),
                node("b", add(2), &[1], t(11)),
                node(
                    "c",
                    QOp::Add {
                        coef_a: 1,
                        coef_b: 1,
                        constant: Vec::new(),
                    },
                    &[1, 2],
                    t(20),
                ),
                node("d", add(3), &[3], t(23)),
                node("e", add(4), &[4], t(27)),
            ],
        )
    }

    #[test]
    fn only_single_tensor_boundaries_are_cuts() {
        let g = residual();
        let cuts = valid_cuts(&g);
        // After `a` only a is live; after `b` both a and b are (the residual); after `c`
        // and `d` one tensor each.
        assert_eq!(
            cuts,
            vec![
                Cut {
                    after: 1,
                    tensor: 1
                },
                Cut {
                    after: 3,
                    tensor: 3
                },
                Cut {
                    after: 4,
                    tensor: 4
                },
            ]
        );
        let e = cut_at(&g, 2).unwrap_err();
        assert!(e.to_string().contains("2 tensors are live"), "{e}");
        assert!(cut_at(&g, 0).is_err() && cut_at(&g, 5).is_err());
    }

    #[test]
    fn chunks_chained_compute_the_whole_model() {
        let g = residual();
        let x = vec![3, -5];
        let whole = g.eval(&x).unwrap();
        for n in 1..=4 {
            let cuts = balanced_cuts(&g, n, &[1; 5]).unwrap();
            assert_eq!(cuts.len(), n - 1);
            let chunks = split(&g, &cuts).unwrap();
            assert_eq!(chunks.len(), n);
            let mut v = x.clone();
            for (i, c) in chunks.iter().enumerate() {
                c.validate().unwrap();
                let first = i == 0;
                let last = i + 1 == n;
                assert_eq!(
                    c.input_visibility,
                    if first {
                        g.input_visibility
                    } else {
                        Visibility::Hashed
                    }
                );
                assert_eq!(
                    c.output_visibility,
                    if last {
                        g.output_visibility
                    } else {
                        Visibility::Hashed
                    }
                );
                let t = c.eval(&v).unwrap();
                v = t.get(c.output).unwrap().to_vec();
                if !last {
                    assert_eq!(c.output_tensor(), g.tensor(cuts[i].tensor));
                    assert_eq!(v, whole.get(cuts[i].tensor).unwrap());
                }
            }
            assert_eq!(v, whole.get(g.output).unwrap());
        }
        assert_eq!(
            balanced_cuts(&g, 5, &[1; 5]),
            Err(ChunkError::TooFewCuts { wanted: 5, cuts: 3 })
        );
    }

    #[test]
    fn a_narrow_boundary_beats_a_wide_one_near_the_same_place() {
        // x [1, 2] -> wide [1, 64] -> narrow [1, 2] -> out: cutting after `wide` splits the
        // cost exactly, after `narrow` one row off; the narrow link is far cheaper.
        let linear = |n_in: usize, n_out: usize| QOp::Linear {
            weight: vec![0; n_in * n_out],
            bias: vec![0; n_out],
            n_in,
            n_out,
        };
        let wide = qtensor(&[1, 64], 0, 1 << 40);
        let narrow = qtensor(&[1, 2], 0, 9);
        assert!(link_rows(&wide) > 10 * link_rows(&narrow));
        let g = graph(
            qtensor(&[1, 2], 0, 8),
            vec![
                node("wide", linear(2, 64), &[0], wide),
                node("narrow", linear(64, 2), &[1], narrow),
                node("out", add(1), &[2], qtensor(&[1, 2], 0, 10)),
            ],
        );
        let cuts = balanced_cuts(&g, 2, &[10, 1, 10]).unwrap();
        assert_eq!(
            cuts,
            vec![Cut {
                after: 2,
                tensor: 2
            }]
        );
    }

    #[test]
    fn a_chunk_keeps_only_its_tables_renumbered() {
        let t = |b| qtensor(&[2], 0, b);
        let table = |name: &str| crate::qgraph::Table {
            name: name.into(),
            in_scale: 0,
            out_scale: 0,
            lo: -4,
            values: vec![0; 9],
        };
        let mut g = graph(
            t(4),
            vec![
                node("f", QOp::Lookup { table: 1 }, &[0], t(4)),
                node("g", QOp::Lookup { table: 0 }, &[1], t(4)),
            ],
        );
        g.tables = vec![table("zero"), table("one")];
        let cut = cut_at(&g, 1).unwrap();
        let chunks = split(&g, &[cut]).unwrap();
        assert_eq!(chunks[0].tables, vec![table("one")]);
        assert_eq!(chunks[0].nodes[0].op, QOp::Lookup { table: 0 });
        assert_eq!(chunks[1].tables, vec![table("zero")]);
        assert_eq!(chunks[1].nodes[0].op, QOp::Lookup { table: 0 });
        assert_eq!(chunks[1].input_name, "f");
    }
}
