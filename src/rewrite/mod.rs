//! E-graph rewriting: the e-graph language ([`lang`]) shared by TF ops, NN layers and custom
//! layers, the e-class facts ([`analysis`]), seeding from the IR ([`seed`]), saturation with the
//! compiled rules ([`saturate`]), costs ([`cost`]) and DAG-aware extraction ([`extract`]), tied
//! together by [`pipeline::convert`] into a [`term::TermDag`]. Rules come from [`crate::rules`].

pub mod analysis;
pub mod branches;
pub mod bridge;
pub mod cost;
pub mod extract;
pub mod lang;
pub mod laws;
pub mod nesting;
pub mod pipeline;
pub mod regions;
pub mod saturate;
pub mod seed;
pub mod term;

pub use pipeline::{convert, ConvertError, ConvertOptions, Stats};
pub use saturate::{Limits, RuleFailure, SaturationReport, StopReason};
