//! One chip per op. Each has a `Config` (its columns and selectors), `configure` and
//! `assign`; the layout in [`crate::layout`] drives them from a `Trace`.

pub mod abs;
pub mod add;
pub mod bilinear;
pub mod commit;
pub mod div;
pub mod linear;
pub mod lookup;
pub mod max;
pub mod poseidon;
pub mod range;
pub mod relu;
pub mod rescale;
