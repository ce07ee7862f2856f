//! E-graph rewriting: the e-graph language ([`lang`]) shared by TF ops, NN layers and custom
//! layers, and DAG-aware extraction ([`extract`]). Rules come from [`crate::rules`].

pub mod extract;
pub mod lang;
pub mod term;
