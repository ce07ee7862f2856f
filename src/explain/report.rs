//! The explanation as data: what `explain --format json` and `convert --explain` write, and what
//! the text renderer reads. The JSON schema is documented in `docs/explain.md`; field names and
//! the string values of the `status`/`kind`/`stage` fields are part of it. Adding a field is a
//! compatible change; renaming or removing one bumps [`SCHEMA_VERSION`].

use serde::Serialize;

/// Version of the JSON schema (`version` field of [`Report`]).
pub const SCHEMA_VERSION: u32 = 1;

/// Everything `explain` found for one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub version: u32,
    /// The model's file name (no directory, so reports are the same wherever the model sits).
    pub model: String,
    /// Which nodes were asked for.
    pub selection: Selection,
    pub saturation: SaturationSummary,
    /// One entry per selected node, in the graph's topological order.
    pub nodes: Vec<NodeExplanation>,
}

/// Which nodes to explain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Selection {
    /// Every node that became a custom layer, and every node nothing converts.
    CustomLayers,
    /// One node by name.
    Node(String),
    /// Every node of one TF op.
    Op(String),
}

/// How saturation ended (no timings: reports must be reproducible).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaturationSummary {
    /// `saturated`, or the budget that stopped it (`iteration limit (30) reached`...).
    pub stop: String,
    /// True when a budget stopped saturation: rules that did not run may still apply.
    pub limit_hit: bool,
    pub iterations: usize,
}

/// One TF node and why it became what it became.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeExplanation {
    pub name: String,
    pub op: String,
    pub inputs: Vec<InputTensor>,
    /// The node's own output tensors, as the import's shape inference (and `infer` items)
    /// give them.
    pub outputs: Vec<InputTensor>,
    pub outcome: Outcome,
    /// Every rule and registration whose pattern is rooted at this op: near misses first,
    /// then those that matched, then the other failures (closest first), then rules an
    /// override or the checker switched off.
    pub rules: Vec<RuleExplanation>,
    /// The registration that produced the custom layer, or what to add when nothing converts
    /// the node; absent when a composite converts it.
    pub registration: Option<RegistrationOutcome>,
}

/// An input of the TF node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputTensor {
    /// TF tensor name (`x`, `split:1`).
    pub tensor: String,
    /// `float32`, or null when unknown.
    pub dtype: Option<String>,
    /// `[2,10]`, `[?,3]`, or `?` for an unknown rank.
    pub shape: String,
    /// A short rendering of a constant's value (`3`, `[1, 2, 3]`, `[0.5, 1.5, ... (16 values)]`).
    pub constant: Option<String>,
}

/// What extraction chose for the node's e-class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// `composite` (NN layers), `custom_layer`, `forwarded` (the node equals another tensor, e.g.
    /// an `Identity`), `unconverted` (no extractable term: nothing converts it).
    pub kind: OutcomeKind,
    /// The chosen e-node (`topK`, `custom CustomTopK`, `input x`); null when unconverted.
    pub extracted: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Composite,
    CustomLayer,
    Forwarded,
    Unconverted,
}

/// `file:line:column` of a place in a rule file (1-based; standard library files are named
/// `rules/NAME.rules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The source line, for the caret rendering.
    #[serde(skip)]
    pub source_line: String,
    /// Characters to underline from `column` (at least 1, within the line).
    #[serde(skip)]
    pub width: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Rule,
    Registration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// The pattern matched and exactly one guard (or the right-hand side) refused.
    NearMiss,
    /// The rule matches the node: saturation applied it.
    Fired,
    /// The rule matches the node but saturation stopped before applying it.
    NotRun,
    /// The rule does not match.
    Failed,
    /// An `override` registration on the same op switched the rule off.
    DisabledByOverride,
    /// The checker dropped the rule (a guard that is always false).
    Dropped,
}

/// One rule or registration tried on the node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleExplanation {
    pub name: String,
    pub kind: RuleKind,
    pub status: RuleStatus,
    /// Where the rule is written (its name).
    pub location: Location,
    /// Why it did not apply (for `near_miss`, `failed`; and for `disabled_by_override` when it
    /// would not have matched anyway).
    pub failure: Option<Failure>,
    /// What became of a rule that matched, or which override disabled it.
    pub note: Option<String>,
}

/// Where a match attempt stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// `pattern` (an op expected at an input), `attribute`, `conflict` (a variable used twice),
    /// `guard`, `build` (an attribute function refused its arguments).
    pub stage: FailureStage,
    /// Input indices from the pattern root to the failing sub-pattern (`[0, 1]`: input 1 of
    /// input 0); empty for the root, guards and the right-hand side.
    pub path: Vec<usize>,
    /// One line, as the matcher says it (`at input 0: expected Conv2D with 2 input(s), found Relu(1)`).
    pub message: String,
    /// Fields of the failure (`expected`, `found`, `guard`, `values`...), by stage.
    pub expected: Option<String>,
    pub found: Option<String>,
    /// The guard's source text, for `guard`.
    pub guard: Option<String>,
    /// The values the guard saw, or why it could not be evaluated.
    pub detail: Option<String>,
    /// The failing sub-pattern, attribute or guard in the rule file.
    pub at: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureStage {
    Pattern,
    Attribute,
    Conflict,
    Guard,
    Build,
}

/// How the node's custom layer came about, or that there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationOutcome {
    pub status: RegistrationStatus,
    /// The registration (null for `none`).
    pub name: Option<String>,
    pub class_name: Option<String>,
    pub location: Option<Location>,
    /// For `none`: what to add.
    pub help: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// An `override` registration forced the custom layer.
    Override,
    /// No composite converts the node, so the registration is the last resort.
    LastResort,
    /// Nothing converts the node: no composite and no registration.
    None,
}
