//! Elementwise functions that compile to lookup tables.
//!
//! Adding one takes a variant, its entry in [`UnaryFn::ALL`] (so every table test covers it),
//! its [`UnarySpec`] in [`UnaryFn::spec`] and its value in [`UnaryFn::eval`]; import,
//! quantization, tables, runtime and circuit need nothing more.

use serde::{Deserialize, Serialize};

/// A float parameter of a function (an ONNX attribute), kept as its bits so functions stay
/// `Eq` and `Hash`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Param(u32);

impl Param {
    /// The parameter `v`.
    pub const fn new(v: f32) -> Self {
        Param(v.to_bits())
    }

    /// Its value.
    pub fn get(self) -> f64 {
        f64::from(f32::from_bits(self.0))
    }
}

impl std::fmt::Debug for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", f32::from_bits(self.0))
    }
}

/// ONNX's default `alpha` of Selu.
pub const SELU_ALPHA: f32 = 1.673_263_2;
/// ONNX's default `gamma` of Selu.
pub const SELU_GAMMA: f32 = 1.050_701;

/// An elementwise function evaluated through a lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryFn {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// The error function.
    Erf,
    /// `e^x`.
    Exp,
    /// `sqrt(x)` (0 below 0).
    Sqrt,
    /// `1 / x`.
    Reciprocal,
    /// `1 / sqrt(x)` (imported from `Reciprocal(Sqrt(x))`).
    Rsqrt,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `ln(x)`.
    Log,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
    /// `tan(x)`.
    Tan,
    /// `asin(x)`, with the argument clamped to `[-1, 1]`.
    Asin,
    /// `acos(x)`, with the argument clamped to `[-1, 1]`.
    Acos,
    /// `atan(x)`.
    Atan,
    /// `sinh(x)`.
    Sinh,
    /// `cosh(x)`.
    Cosh,
    /// `asinh(x)`.
    Asinh,
    /// `acosh(x)`, with the argument clamped to `[1, ∞)`.
    Acosh,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `-1`, `0` or `1`.
    Sign,
    /// `⌊x⌋`.
    Floor,
    /// `⌈x⌉`.
    Ceil,
    /// `x` rounded to the nearest integer, ties to even (ONNX `Round`).
    Round,
    /// `x` rounded toward zero (`Cast` from a float to an integer type).
    Trunc,
    /// `x · tanh(ln(1 + e^x))`.
    Mish,
    /// `x · Φ(x)`, exact (`Gelu`, `approximate = "none"`).
    Gelu,
    /// `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))` (`Gelu`, `approximate = "tanh"`).
    GeluTanh,
    /// `x` above 0, `alpha (e^x - 1)` below.
    Elu {
        /// The negative-side scale.
        alpha: Param,
    },
    /// `gamma · x` above 0, `gamma · alpha (e^x - 1)` below.
    Selu {
        /// The negative-side scale.
        alpha: Param,
        /// The overall scale.
        gamma: Param,
    },
    /// `max(0, x) + min(0, alpha (e^(x/alpha) - 1))`.
    Celu {
        /// The negative-side scale.
        alpha: Param,
    },
    /// `x^exponent` for a constant exponent (`Pow` with a constant second operand).
    Pow {
        /// The exponent.
        exponent: Param,
    },
}

/// What import and quantization need to know about a tabulated function.
#[derive(Debug, Clone, Copy)]
pub struct UnarySpec {
    /// The ONNX op type it imports from.
    pub onnx_op: &'static str,
    /// Lower-case name used in table names and reports.
    pub name: &'static str,
    /// Whether it is constant after rounding beyond some argument (below, above): the
    /// table then stops there and the argument is clamped, with identical results.
    pub saturates: (bool, bool),
    /// Arguments where the function is defined and moderate: the range tests sample.
    pub sample: (f64, f64),
}

const WHOLE: (f64, f64) = (-3.0, 3.0);
const POSITIVE: (f64, f64) = (0.5, 4.0);

impl UnaryFn {
    /// Every function (parametric ones at a typical parameter), in declaration order.
    pub const ALL: [UnaryFn; 33] = [
        UnaryFn::Sigmoid,
        UnaryFn::Tanh,
        UnaryFn::Erf,
        UnaryFn::Exp,
        UnaryFn::Sqrt,
        UnaryFn::Reciprocal,
        UnaryFn::Rsqrt,
        UnaryFn::Softplus,
        UnaryFn::Log,
        UnaryFn::Sin,
        UnaryFn::Cos,
        UnaryFn::Tan,
        UnaryFn::Asin,
        UnaryFn::Acos,
        UnaryFn::Atan,
        UnaryFn::Sinh,
        UnaryFn::Cosh,
        UnaryFn::Asinh,
        UnaryFn::Acosh,
        UnaryFn::Softsign,
        UnaryFn::Sign,
        UnaryFn::Floor,
        UnaryFn::Ceil,
        UnaryFn::Round,
        UnaryFn::Trunc,
        UnaryFn::Mish,
        UnaryFn::Gelu,
        UnaryFn::GeluTanh,
        UnaryFn::Elu {
            alpha: Param::new(0.5),
        },
        UnaryFn::Selu {
            alpha: Param::new(SELU_ALPHA),
            gamma: Param::new(SELU_GAMMA),
        },
        UnaryFn::Celu {
            alpha: Param::new(2.0),
        },
        UnaryFn::Pow {
            exponent: Param::new(1.5),
        },
        UnaryFn::Pow {
            exponent: Param::new(-2.0),
        },
    ];

    /// The function's description.
    pub fn spec(self) -> UnarySpec {
        let both = (true, true);
        let below = (true, false);
        let none = (false, false);
        let (onnx_op, name, saturates, sample) = match self {
            UnaryFn::Sigmoid => ("Sigmoid", "sigmoid", both, WHOLE),
            UnaryFn::Tanh => ("Tanh", "tanh", both, WHOLE),
            UnaryFn::Erf => ("Erf", "erf", both, WHOLE),
            UnaryFn::Exp => ("Exp", "exp", below, WHOLE),
            UnaryFn::Sqrt => ("Sqrt", "sqrt", none, POSITIVE),
            UnaryFn::Reciprocal => ("Reciprocal", "reciprocal", none, POSITIVE),
            UnaryFn::Rsqrt => ("Rsqrt", "rsqrt", none, POSITIVE),
            UnaryFn::Softplus => ("Softplus", "softplus", below, WHOLE),
            UnaryFn::Log => ("Log", "log", none, POSITIVE),
            UnaryFn::Sin => ("Sin", "sin", none, WHOLE),
            UnaryFn::Cos => ("Cos", "cos", none, WHOLE),
            UnaryFn::Tan => ("Tan", "tan", none, (-1.2, 1.2)),
            UnaryFn::Asin => ("Asin", "asin", both, (-0.95, 0.95)),
            UnaryFn::Acos => ("Acos", "acos", both, (-0.95, 0.95)),
            UnaryFn::Atan => ("Atan", "atan", none, WHOLE),
            UnaryFn::Sinh => ("Sinh", "sinh", none, WHOLE),
            UnaryFn::Cosh => ("Cosh", "cosh", none, WHOLE),
            UnaryFn::Asinh => ("Asinh", "asinh", none, WHOLE),
            UnaryFn::Acosh => ("Acosh", "acosh", below, (1.1, 4.0)),
            UnaryFn::Softsign => ("Softsign", "softsign", none, WHOLE),
            UnaryFn::Sign => ("Sign", "sign", both, WHOLE),
            UnaryFn::Floor => ("Floor", "floor", none, WHOLE),
            UnaryFn::Ceil => ("Ceil", "ceil", none, WHOLE),
            UnaryFn::Round => ("Round", "round", none, WHOLE),
            UnaryFn::Trunc => ("Cast", "trunc", none, WHOLE),
            UnaryFn::Mish => ("Mish", "mish", below, WHOLE),
            UnaryFn::Gelu => ("Gelu", "gelu", below, WHOLE),
            UnaryFn::GeluTanh => ("Gelu", "gelu_tanh", below, WHOLE),
            UnaryFn::Elu { .. } => ("Elu", "elu", below, WHOLE),
            UnaryFn::Selu { .. } => ("Selu", "selu", below, WHOLE),
            UnaryFn::Celu { .. } => ("Celu", "celu", below, WHOLE),
            UnaryFn::Pow { .. } => ("Pow", "pow", none, POSITIVE),
        };
        UnarySpec {
            onnx_op,
            name,
            saturates,
            sample,
        }
    }

    /// The function a parameter-free ONNX op type names, if it is one of ours. Rsqrt has no
    /// ONNX op (it is imported from `Reciprocal(Sqrt(x))`), Trunc comes from `Cast`; Gelu,
    /// Elu, Selu, Celu and Pow read
    /// attributes or operands and are imported by their own code.
    pub fn from_onnx(op: &str) -> Option<UnaryFn> {
        UnaryFn::ALL
            .into_iter()
            .filter(|f| f.is_plain())
            .find(|f| f.spec().onnx_op == op)
    }

    /// The ONNX op types that name a function alone (see [`UnaryFn::from_onnx`]).
    pub fn onnx_ops() -> Vec<&'static str> {
        UnaryFn::ALL
            .into_iter()
            .filter(|f| f.is_plain())
            .map(|f| f.spec().onnx_op)
            .collect()
    }

    /// Whether the ONNX op alone names this function (no attribute or operand chooses it).
    fn is_plain(self) -> bool {
        !matches!(
            self,
            UnaryFn::Rsqrt
                | UnaryFn::Trunc
                | UnaryFn::Gelu
                | UnaryFn::GeluTanh
                | UnaryFn::Elu { .. }
                | UnaryFn::Selu { .. }
                | UnaryFn::Celu { .. }
                | UnaryFn::Pow { .. }
        )
    }

    /// Lower-case name used in table names and reports.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The function in f64 (`libm`, so every platform computes the same table).
    pub fn eval(self, x: f64) -> f64 {
        let expm1_below = |x: f64, alpha: f64| {
            if x > 0.0 {
                x
            } else {
                alpha * libm::expm1(x)
            }
        };
        match self {
            UnaryFn::Sigmoid => 1.0 / (1.0 + libm::exp(-x)),
            UnaryFn::Tanh => libm::tanh(x),
            UnaryFn::Erf => libm::erf(x),
            UnaryFn::Exp => libm::exp(x),
            UnaryFn::Sqrt => libm::sqrt(x.max(0.0)),
            UnaryFn::Reciprocal => 1.0 / x,
            UnaryFn::Rsqrt => 1.0 / libm::sqrt(x),
            UnaryFn::Softplus => softplus(x),
            UnaryFn::Log => libm::log(x),
            UnaryFn::Sin => libm::sin(x),
            UnaryFn::Cos => libm::cos(x),
            UnaryFn::Tan => libm::tan(x),
            UnaryFn::Asin => libm::asin(x.clamp(-1.0, 1.0)),
            UnaryFn::Acos => libm::acos(x.clamp(-1.0, 1.0)),
            UnaryFn::Atan => libm::atan(x),
            UnaryFn::Sinh => libm::sinh(x),
            UnaryFn::Cosh => libm::cosh(x),
            UnaryFn::Asinh => libm::asinh(x),
            UnaryFn::Acosh => libm::acosh(x.max(1.0)),
            UnaryFn::Softsign => x / (1.0 + x.abs()),
            UnaryFn::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            UnaryFn::Floor => libm::floor(x),
            UnaryFn::Ceil => libm::ceil(x),
            UnaryFn::Round => x.round_ties_even(),
            UnaryFn::Trunc => x.trunc(),
            UnaryFn::Mish => x * libm::tanh(softplus(x)),
            UnaryFn::Gelu => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
            UnaryFn::GeluTanh => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + libm::tanh(c * (x + 0.044_715 * x * x * x)))
            }
            UnaryFn::Elu { alpha } => expm1_below(x, alpha.get()),
            UnaryFn::Selu { alpha, gamma } => gamma.get() * expm1_below(x, alpha.get()),
            UnaryFn::Celu { alpha } => {
                let a = alpha.get();
                x.max(0.0) + (a * libm::expm1(x / a)).min(0.0)
            }
            UnaryFn::Pow { exponent } => libm::pow(x, exponent.get()),
        }
    }
}

/// `ln(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + libm::log1p(libm::exp(-x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_functions_come_back_from_their_onnx_names() {
        for f in UnaryFn::ALL.into_iter().filter(|f| f.is_plain()) {
            assert_eq!(UnaryFn::from_onnx(f.spec().onnx_op), Some(f));
        }
        for op in [
            "Rsqrt", "Gelu", "Elu", "Selu", "Celu", "Pow", "Relu", "Cast",
        ] {
            assert_eq!(UnaryFn::from_onnx(op), None, "{op}");
        }
    }

    #[test]
    fn values_at_known_points() {
        let close = |f: UnaryFn, x: f64, want: f64| {
            let got = f.eval(x);
            assert!((got - want).abs() < 1e-6, "{f:?}({x}) = {got}, want {want}");
        };
        close(UnaryFn::Log, std::f64::consts::E, 1.0);
        close(UnaryFn::Sign, -0.25, -1.0);
        close(UnaryFn::Sign, 0.0, 0.0);
        close(UnaryFn::Round, 2.5, 2.0);
        close(UnaryFn::Round, -1.5, -2.0);
        close(UnaryFn::Floor, -1.5, -2.0);
        close(UnaryFn::Ceil, -1.5, -1.0);
        close(UnaryFn::Trunc, -1.5, -1.0);
        close(UnaryFn::Trunc, 2.75, 2.0);
        close(UnaryFn::Softsign, 1.0, 0.5);
        close(UnaryFn::Asin, 2.0, std::f64::consts::FRAC_PI_2);
        let elu = UnaryFn::Elu {
            alpha: Param::new(2.0),
        };
        close(elu, 1.5, 1.5);
        close(elu, -1.0, 2.0 * (libm::exp(-1.0) - 1.0));
        let celu = UnaryFn::Celu {
            alpha: Param::new(2.0),
        };
        close(celu, -1.0, 2.0 * (libm::exp(-0.5) - 1.0));
        let pow = UnaryFn::Pow {
            exponent: Param::new(1.5),
        };
        close(pow, 4.0, 8.0);
        close(UnaryFn::Gelu, 1.0, 0.841_344_746);
    }
}
