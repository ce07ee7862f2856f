//! The rule language: rules written as data (`rules/*.rules`) that say how TF ops become
//! Core ML NN layers or custom layers, parsed, checked and compiled to egg rewrites.
//!
//! Pipeline, one file per stage: [`parser`] (text → [`ast`]) → [`check`] (names, arity,
//! types, registrations; diagnostics in [`diag`]) → [`compile`] (egg `Rewrite`s over
//! [`crate::rewrite::lang::Node`]). The registries the checker and compiler consult are Rust
//! data: [`layers`] (NN layer kinds), [`functions`] (attribute functions), [`ops`] (TF op
//! signatures). [`load`] assembles the standard library and user directories.

pub mod ast;
pub mod audio;
pub mod bridge;
pub mod check;
pub mod compile;
pub mod coverage;
pub mod crop;
pub mod diag;
pub mod einsum;
pub mod functions;
pub mod layers;
pub mod load;
pub mod memo;
pub mod ops;
pub mod parser;
pub mod sampling;
pub mod projective;
pub mod tensor_math;
pub mod strided_slice;
pub mod value;

pub use load::{LoadOptions, RuleSet, RulesError};
