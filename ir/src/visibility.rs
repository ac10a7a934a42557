//! What a proof reveals of a tensor group (EZKL's names).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a tensor group (the input, the output) appears in a proof.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Every value is a public instance (the default).
    #[default]
    Public,
    /// Only the prover sees the values; the proof shows that some values in range give the
    /// rest of the claim.
    Private,
    /// The values stay private; their salted Poseidon commitment is one public instance.
    Hashed,
}

impl Visibility {
    /// Whether this is [`Visibility::Public`] (serde's skip test).
    pub fn is_public(&self) -> bool {
        *self == Visibility::Public
    }

    /// Public instances a group of `numel` values takes.
    pub fn instances(&self, numel: usize) -> usize {
        match self {
            Visibility::Public => numel,
            Visibility::Private => 0,
            Visibility::Hashed => 1,
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
            Visibility::Hashed => "hashed",
        })
    }
}

impl FromStr for Visibility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "public" => Ok(Visibility::Public),
            "private" => Ok(Visibility::Private),
            "hashed" => Ok(Visibility::Hashed),
            other => Err(format!(
                "`{other}` is not a visibility: use public, private or hashed"
            )),
        }
    }
}

/// A stretch of a flat tensor with one visibility: one graph input, or the whole input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The graph input's name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Position of its first value in the flat tensor.
    pub start: usize,
    /// What the proof shows of it.
    pub visibility: Visibility,
}

impl Segment {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The segments of a flat tensor: one per part of `parts` with `per_part`'s visibility when
/// that is set (one entry per part), else the whole tensor (`name`, `shape`) with `all`.
pub fn segments(
    parts: &[crate::IoPart],
    per_part: &[Visibility],
    (name, shape): (&str, &[usize]),
    all: Visibility,
) -> Vec<Segment> {
    if per_part.is_empty() || per_part.len() != parts.len() {
        return vec![Segment {
            name: name.to_string(),
            shape: shape.to_vec(),
            start: 0,
            visibility: all,
        }];
    }
    let mut start = 0;
    parts
        .iter()
        .zip(per_part)
        .map(|(p, v)| {
            let s = Segment {
                name: p.name.clone(),
                shape: p.shape.clone(),
                start,
                visibility: *v,
            };
            start += p.numel();
            s
        })
        .collect()
}

/// How the weights and constants appear in a proof.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamVisibility {
    /// Fixed columns: the verifying key holds them (the default).
    #[default]
    Fixed,
    /// Advice the prover supplies, range-checked: one key serves every weight set with the
    /// same bounds, and a proof shows only that some such weights give the claim.
    Private,
    /// Private, plus a Poseidon commitment to every weight and constant as one public value:
    /// the model's identity without its weights.
    Hashed,
    /// Fixed columns left out of the verifying key: the trained weights' KZG column
    /// commitments travel with each proof (one point per column that holds them), and their
    /// Keccak digest names the weight set. One key serves every weight set of the same
    /// widths; a proof costs what a fixed-parameter one does.
    Committed,
}

impl ParamVisibility {
    /// Whether this is [`ParamVisibility::Fixed`] (serde's skip test).
    pub fn is_fixed(&self) -> bool {
        *self == ParamVisibility::Fixed
    }

    /// Whether the weights are advice cells the prover supplies (private or hashed).
    pub fn is_advice(&self) -> bool {
        matches!(self, ParamVisibility::Private | ParamVisibility::Hashed)
    }
}

impl fmt::Display for ParamVisibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamVisibility::Fixed => "fixed",
            ParamVisibility::Private => "private",
            ParamVisibility::Hashed => "hashed",
            ParamVisibility::Committed => "committed",
        })
    }
}

impl FromStr for ParamVisibility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fixed" => Ok(ParamVisibility::Fixed),
            "private" => Ok(ParamVisibility::Private),
            "hashed" => Ok(ParamVisibility::Hashed),
            "committed" => Ok(ParamVisibility::Committed),
            other => Err(format!(
                "`{other}` is not a parameter visibility: use fixed, private, hashed or committed"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_counts() {
        for v in [Visibility::Public, Visibility::Private, Visibility::Hashed] {
            assert_eq!(v.to_string().parse::<Visibility>(), Ok(v));
        }
        assert!("secret"
            .parse::<Visibility>()
            .unwrap_err()
            .contains("`secret`"));
        assert_eq!(Visibility::Public.instances(784), 784);
        assert_eq!(Visibility::Private.instances(784), 0);
        assert_eq!(Visibility::Hashed.instances(784), 1);
        for v in [
            ParamVisibility::Fixed,
            ParamVisibility::Private,
            ParamVisibility::Hashed,
            ParamVisibility::Committed,
        ] {
            assert_eq!(v.to_string().parse::<ParamVisibility>(), Ok(v));
        }
        assert!("public"
            .parse::<ParamVisibility>()
            .unwrap_err()
            .contains("`public`"));
    }
}
