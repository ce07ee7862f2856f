//! E-graph rewriting: the e-graph language ([`lang`]) shared by TF ops, NN layers and custom
//! layers. Rules come from [`crate::rules`]; saturation and extraction build on this.

pub mod lang;
