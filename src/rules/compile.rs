//! Compiles checked rules into egg rewrites over [`Node`]: a [`RuleSearcher`] that matches a
//! pattern including attributes and binds node and attribute variables, and a [`RuleApplier`]
//! that evaluates guards on e-class facts and builds the right-hand side.
//!
//! The matcher is instrumentable: [`CompiledRule::try_class`] runs the same code on one
//! e-class and, when nothing applies, returns the deepest [`MatchFailure`] (which input path,
//! which op was expected and which were found, which guard failed with which values) for
//! `explain`. egg's `Subst` only holds `Id`s, so attribute bindings are recomputed by the
//! applier from the matched e-class rather than smuggled through the substitution.

use super::ast::{self, AttrPat, BinOp, Clause, Expr, Lit, Pattern, Rhs, Term, UnOp};
use super::check::{is_tf_name, PARAM_TYPES};
use super::functions::{self, ClassFacts, NoFacts, Ty};
use super::layers::{self, ParamType};
use super::value::{DType, Tensor, Value};
use crate::rewrite::lang::{Attrs, ClassData, EGraphFacts, Name, Node, NodeHead};
use egg::{Analysis, EGraph, Id, Language, Rewrite, SearchMatches, Subst, Var};
use ordered_float::OrderedFloat;
use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Values bound by a match, in binding order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Bindings(pub Vec<(String, Value)>);

impl Bindings {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    /// The same bindings with every bound e-class replaced by its current canonical id.
    fn canonical<N: Analysis<Node>>(&self, egraph: &EGraph<Node, N>) -> Bindings {
        fn canon<N: Analysis<Node>>(v: &Value, egraph: &EGraph<Node, N>) -> Value {
            match v {
                Value::Class(id) => Value::Class(egraph.find(*id)),
                Value::List(vs) => Value::List(vs.iter().map(|v| canon(v, egraph)).collect()),
                v => v.clone(),
            }
        }
        Bindings(self.0.iter().map(|(n, v)| (n.clone(), canon(v, egraph))).collect())
    }

    fn with(&self, name: &str, v: Value) -> Bindings {
        let mut b = self.clone();
        b.0.push((name.to_string(), v));
        b
    }
}

impl fmt::Display for Bindings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// Why a rule did not apply to an e-class.
#[derive(Debug, Clone, PartialEq)]
pub enum FailReason {
    /// No node in the class has the expected op (or it has a different number of inputs).
    NoOp { expected: String, found: Vec<String> },
    /// The op is there but an attribute differs.
    Attr { op: String, attr: String, expected: String, found: Option<String> },
    /// A variable used twice is bound to two different e-classes or values.
    Conflict { var: String, first: String, second: String },
    /// A guard evaluated to false (with the values it saw) or failed to evaluate. `span` is
    /// the guard's (or the `let` expression's) place in the rule file, for `explain`.
    Guard { guard: String, detail: String, span: ast::Span },
    /// The right-hand side could not be computed (e.g. a constant could not be permuted).
    Build { detail: String },
}

/// The deepest place a match attempt got to before failing.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchFailure {
    /// Input indices from the pattern root to the failing sub-pattern.
    pub path: Vec<usize>,
    pub reason: FailReason,
}

impl MatchFailure {
    fn depth(&self) -> (u8, usize) {
        let stage = match self.reason {
            FailReason::NoOp { .. } | FailReason::Attr { .. } | FailReason::Conflict { .. } => 0,
            FailReason::Guard { .. } => 1,
            FailReason::Build { .. } => 2,
        };
        (stage, self.path.len())
    }
}

impl fmt::Display for MatchFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "at the root".to_string()
        } else {
            format!("at input {}", self.path.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("."))
        };
        match &self.reason {
            FailReason::NoOp { expected, found } => write!(f, "{at}: expected {expected}, found {}", found.join(" | ")),
            FailReason::Attr { op, attr, expected, found } => write!(
                f,
                "{at}: {op}.{attr} should be {expected}, is {}",
                found.as_deref().unwrap_or("missing")
            ),
            FailReason::Conflict { var, first, second } => write!(f, "{at}: `{var}` is {first} and also {second}"),
            FailReason::Guard { guard, detail, .. } => write!(f, "guard `{guard}` failed: {detail}"),
            FailReason::Build { detail } => write!(f, "right-hand side failed: {detail}"),
        }
    }
}

struct Tracker {
    best: Option<MatchFailure>,
    /// Off while saturating: failures are only explained on demand (`try_class`), and
    /// describing them (formatting every node of a class) would dominate the search.
    enabled: bool,
}

impl Tracker {
    fn fail(&mut self, path: &[usize], reason: FailReason) {
        if !self.enabled {
            return;
        }
        let f = MatchFailure { path: path.to_vec(), reason };
        if self.best.as_ref().is_none_or(|b| f.depth() > b.depth()) {
            self.best = Some(f);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expression evaluation

/// An evaluation failure (the rule does not apply), as text for `explain`.
pub type EvalError = String;

/// Evaluates an expression that mentions no variable (used by the checker).
pub fn eval_const(e: &Expr) -> Result<Value, EvalError> {
    eval(e, &Bindings::default(), &NoFacts)
}

/// Evaluates an expression under bindings, reading e-class facts through `facts`.
pub fn eval(e: &Expr, env: &Bindings, facts: &dyn ClassFacts) -> Result<Value, EvalError> {
    match e {
        Expr::Lit(l, _) => Ok(lit_value(l)),
        Expr::Var(id) => {
            if let Some(d) = DType::from_name(&id.name) {
                return Ok(Value::DType(d));
            }
            env.get(&id.name).cloned().ok_or_else(|| format!("`{}` is not bound", id.name))
        }
        Expr::List(items, _) => items.iter().map(|i| eval(i, env, facts)).collect::<Result<_, _>>().map(Value::List),
        Expr::Unary(op, a, _) => {
            let v = eval(a, env, facts)?;
            match (op, v) {
                (UnOp::Neg, Value::Int(i)) => i.checked_neg().map(Value::Int).ok_or_else(|| "overflow".into()),
                (UnOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
                (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                (_, v) => Err(format!("cannot negate {v}")),
            }
        }
        Expr::Binary(op, a, b, _) => {
            let x = eval(a, env, facts)?;
            // Short-circuit: `is_const(k) and int_value(k) > 0` must not evaluate the right side.
            match (op, &x) {
                (BinOp::And, Value::Bool(false)) => return Ok(Value::Bool(false)),
                (BinOp::Or, Value::Bool(true)) => return Ok(Value::Bool(true)),
                _ => {}
            }
            let y = eval(b, env, facts)?;
            functions::binary(*op, &x, &y)
        }
        Expr::If { cond, then, else_, .. } => match eval(cond, env, facts)? {
            Value::Bool(true) => eval(then, env, facts),
            Value::Bool(false) => eval(else_, env, facts),
            v => Err(format!("the condition `{cond}` is {v}, not a bool")),
        },
        Expr::Comp { body, var, list, .. } => {
            let items = match eval(list, env, facts)? {
                Value::List(items) => items,
                v => return Err(format!("`for {} in ...`: {v} is not a list", var.name)),
            };
            items.into_iter().map(|v| eval(body, &env.with(&var.name, v), facts)).collect::<Result<_, _>>().map(Value::List)
        }
        Expr::Call(name, args, _) => {
            let f = functions::function(&name.name).ok_or_else(|| format!("unknown function `{}`", name.name))?;
            let vals = args.iter().map(|a| eval(a, env, facts)).collect::<Result<Vec<_>, _>>()?;
            super::memo::call(f.name, &vals, || (f.eval)(&vals, facts))
        }
    }
}

pub fn lit_value(l: &Lit) -> Value {
    match l {
        Lit::Int(i) => Value::Int(*i),
        Lit::Float(f) => Value::Float(OrderedFloat(*f)),
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Str(s) => Value::Str(s.clone()),
    }
}

/// Explains a false guard: the values of the sides of the failing comparison; for `all` over
/// a comprehension, which element failed and why.
/// `" (let n = 3, let total = 12)"` for the `let` names among `lets` that `e` reads, in
/// order of binding; empty when it reads none. Guards over `let`s would otherwise show the
/// name but not what it held.
fn let_values(e: &Expr, lets: &[&str], env: &Bindings) -> String {
    fn reads(e: &Expr, name: &str) -> bool {
        match e {
            Expr::Var(i) => i.name == name,
            Expr::Lit(..) => false,
            Expr::Call(_, args, _) | Expr::List(args, _) => args.iter().any(|a| reads(a, name)),
            Expr::Unary(_, a, _) => reads(a, name),
            Expr::Binary(_, a, b, _) => reads(a, name) || reads(b, name),
            Expr::Comp { body, var, list, .. } => reads(list, name) || (var.name != name && reads(body, name)),
            Expr::If { cond, then, else_, .. } => reads(cond, name) || reads(then, name) || reads(else_, name),
        }
    }
    let mut seen = HashSet::new();
    let shown: Vec<String> = lets
        .iter()
        .filter(|n| seen.insert(**n) && reads(e, n))
        .filter_map(|n| env.get(n).map(|v| format!("let {n} = {v}")))
        .collect();
    if shown.is_empty() {
        String::new()
    } else {
        format!(" ({})", shown.join(", "))
    }
}

fn guard_detail(g: &Expr, env: &Bindings, facts: &dyn ClassFacts) -> String {
    match g {
        Expr::Call(f, args, _) if matches!(f.name.as_str(), "all" | "any") && args.len() == 1 => {
            let Expr::Comp { body, var, list, .. } = &args[0] else {
                return match eval(g, env, facts) {
                    Ok(v) => format!("`{g}` is {v}"),
                    Err(m) => format!("`{g}`: {m}"),
                };
            };
            let items = match eval(list, env, facts) {
                Ok(Value::List(items)) => items,
                Ok(v) => return format!("`{list}` is {v}, not a list"),
                Err(m) => return format!("`{list}`: {m}"),
            };
            if f.name == "any" {
                return format!("`{g}` is false: `{body}` holds for none of the {} element(s) of `{list}`", items.len());
            }
            for (i, v) in items.into_iter().enumerate() {
                let inner = env.with(&var.name, v.clone());
                if !matches!(eval(body, &inner, facts), Ok(Value::Bool(true))) {
                    return format!("element {i} of `{list}` ({} = {v}): {}", var.name, guard_detail(body, &inner, facts));
                }
            }
            format!("`{g}` is false")
        }
        Expr::Binary(BinOp::And, a, b, _) => {
            if !matches!(eval(a, env, facts), Ok(Value::Bool(true))) {
                guard_detail(a, env, facts)
            } else {
                guard_detail(b, env, facts)
            }
        }
        Expr::Binary(op, a, b, _) if op.precedence() == 3 => {
            let show = |e: &Expr| match eval(e, env, facts) {
                Ok(v) => format!("{e} = {v}"),
                Err(m) => format!("{e}: {m}"),
            };
            format!("`{g}` is false: {}, {}", show(a), show(b))
        }
        _ => match eval(g, env, facts) {
            Ok(v) => format!("`{g}` is {v}"),
            Err(m) => format!("`{g}`: {m}"),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Compiled rules

/// What a compiled rule builds.
#[derive(Debug, Clone)]
pub enum Action {
    Rhs(Rhs),
    /// A custom layer from a registration.
    Custom(Arc<Registration>),
}

/// A registration ready for the lowering stage: everything needed to write `CustomLayerParams`.
#[derive(Debug, Clone)]
pub struct Registration {
    pub name: String,
    pub class_name: String,
    pub description: String,
    /// Variables (or root-op input names) in `input_order`.
    pub input_order: Vec<String>,
    /// `(name, CustomLayerParamValue case, expression)`.
    pub parameters: Vec<(String, String, Expr)>,
    /// Output dtypes when declared.
    pub outputs: Option<Vec<DType>>,
    pub override_: bool,
    /// TF op at the root of the pattern.
    pub root_op: Option<String>,
    /// Root-op input names resolved to pattern variables.
    input_aliases: Vec<(String, String)>,
    /// What the custom layer computes (`reference = ...`), over the `input_order` names and
    /// the parameters: how `mlrewrite run` executes the layer (`crate::reference`).
    pub reference: Option<Rhs>,
}

/// Builds a right-hand side into `egraph` with the variables of `env` (classes and values)
/// and returns the class of each of its `outputs` outputs: a tuple's terms, or the projections
/// of one term of several outputs. What a registration's `reference` is run through.
pub fn add_rhs<N: Analysis<Node>>(rhs: &Rhs, env: &Bindings, egraph: &mut EGraph<Node, N>, outputs: usize) -> Result<Vec<Id>, String>
where
    N::Data: ClassData,
{
    let plans = {
        let facts = EGraphFacts(&*egraph);
        match rhs {
            Rhs::Term(t) => vec![plan_term(t, env, egraph, &facts)?],
            Rhs::Outputs(ts, _) => plan_args(ts, env, egraph, &facts)?,
        }
    };
    let ids: Vec<Id> = plans.into_iter().map(|p| add_plan(egraph, p)).collect();
    match (rhs, &ids[..]) {
        (Rhs::Term(_), [one]) if outputs > 1 => Ok((0..outputs as u32).map(|index| egraph.add(Node::Proj { index, arg: [*one] })).collect()),
        _ if ids.len() != outputs => Err(format!("the reference has {} output(s), the layer {outputs}", ids.len())),
        _ => Ok(ids),
    }
}

/// One rule (or registration) ready to run.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub name: String,
    pub lhs: Pattern,
    pub clauses: Vec<Clause>,
    pub action: Action,
    /// Node variables, for egg's `Searcher::vars`.
    node_vars: Vec<String>,
}

/// Attribute value stored in a node for a missing NN parameter (the proto3 default).
fn param_default(p: ParamType) -> Value {
    match p {
        ParamType::Int | ParamType::UInt => Value::Int(0),
        ParamType::Float => Value::float(0.0),
        ParamType::Bool => Value::Bool(false),
        ParamType::Str => Value::Str(String::new()),
        ParamType::Enum(vs) => Value::Str(vs.first().copied().unwrap_or("").to_string()),
        _ => Value::List(vec![]),
    }
}

fn collect_node_vars(p: &Pattern, out: &mut Vec<String>) {
    match p {
        Pattern::Var(i) => {
            if !out.contains(&i.name) {
                out.push(i.name.clone())
            }
        }
        Pattern::Wildcard(_) => {}
        Pattern::Bind(i, p) => {
            if !out.contains(&i.name) {
                out.push(i.name.clone())
            }
            collect_node_vars(p, out)
        }
        Pattern::Op(o) => o.args.iter().for_each(|a| collect_node_vars(a, out)),
        Pattern::Proj(p, _, _) => collect_node_vars(p, out),
        // A list of classes is not an egg variable; the applier re-matches to recover it.
        Pattern::Rest(..) => {}
    }
}

fn root_op(p: &Pattern) -> Option<&ast::OpPattern> {
    match p {
        Pattern::Op(o) => Some(o),
        Pattern::Bind(_, p) => root_op(p),
        _ => None,
    }
}

/// Plan of a right-hand side with every expression evaluated (built in a second step because
/// evaluation reads the e-graph and building writes it).
enum Plan {
    Class(Id),
    Const(Arc<Tensor>),
    Node { node: Node, args: Vec<Plan> },
    Proj(u32, Box<Plan>),
}

impl CompiledRule {
    pub fn from_rule(r: &ast::Rule) -> CompiledRule {
        let mut node_vars = vec![];
        collect_node_vars(&r.lhs, &mut node_vars);
        CompiledRule { name: r.name.name.clone(), lhs: r.lhs.clone(), clauses: r.clauses.clone(), action: Action::Rhs(r.rhs.clone()), node_vars }
    }

    /// Compiles a (checked) registration; `catalog` resolves OpDef input names in `input_order`.
    pub fn from_registration(c: &ast::Registration, catalog: &dyn super::ops::OpCatalog) -> Result<CompiledRule, String> {
        let mut node_vars = vec![];
        collect_node_vars(&c.lhs, &mut node_vars);
        let str_field = |n: &str| -> Result<String, String> {
            match c.field(n).map(|f| &f.value) {
                Some(ast::FieldValue::Expr(e)) => match eval_const(e)? {
                    Value::Str(s) => Ok(s),
                    v => Err(format!("`{n}` must be a string, is {v}")),
                },
                _ => Err(format!("registration `{}` has no `{n}`", c.name.name)),
            }
        };
        let input_order = match c.field("input_order").map(|f| &f.value) {
            Some(ast::FieldValue::Expr(Expr::List(items, _))) => items
                .iter()
                .map(|e| match e {
                    Expr::Var(i) => Ok(i.name.clone()),
                    e => Err(format!("`{e}` is not an input name")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(format!("registration `{}` has no `input_order` list", c.name.name)),
        };
        let parameters = match c.field("parameters").map(|f| &f.value) {
            Some(ast::FieldValue::Params(ps, _)) => ps.iter().map(|p| (p.name.name.clone(), p.ty.name.clone(), p.value.clone())).collect(),
            _ => vec![],
        };
        let outputs = match c.field("outputs").map(|f| &f.value) {
            Some(ast::FieldValue::Expr(e)) => match eval_const(e)? {
                Value::List(vs) => Some(
                    vs.into_iter()
                        .map(|v| match v {
                            Value::DType(d) => Ok(d),
                            v => Err(format!("`{v}` is not a dtype")),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                v => return Err(format!("`outputs` must be a list of dtypes, is {v}")),
            },
            _ => None,
        };
        let root = root_op(&c.lhs);
        let mut input_aliases = vec![];
        if let Some(o) = root {
            if let Some(sig) = catalog.op(&o.op.name) {
                for (name, arg) in sig.inputs.iter().zip(&o.args) {
                    if let Pattern::Var(v) | Pattern::Bind(v, _) = arg {
                        input_aliases.push((name.clone(), v.name.clone()));
                    }
                }
            }
        }
        let reg = Registration {
            name: c.name.name.clone(),
            class_name: str_field("class_name")?,
            description: str_field("description")?,
            input_order,
            parameters,
            outputs,
            override_: c.override_.is_some(),
            root_op: root.map(|o| o.op.name.clone()),
            input_aliases,
            reference: match c.field("reference").map(|f| &f.value) {
                Some(ast::FieldValue::Reference(rhs)) => Some(rhs.clone()),
                _ => None,
            },
        };
        Ok(CompiledRule { name: c.name.name.clone(), lhs: c.lhs.clone(), clauses: c.clauses.clone(), action: Action::Custom(Arc::new(reg)), node_vars })
    }

    /// TF op at the root of the pattern, if any (`rules list --op`, overrides).
    pub fn root_op(&self) -> Option<&str> {
        root_op(&self.lhs).map(|o| o.op.name.as_str())
    }

    /// Does the pattern match `op` anywhere (root or inside)?
    pub fn mentions_op(&self, op: &str) -> bool {
        self.lhs.ops().contains(&op)
    }

    /// Is this an `override` registration?
    pub fn is_override(&self) -> bool {
        matches!(&self.action, Action::Custom(c) if c.override_)
    }

    // ------------------------------------------------------------- matching

    /// Every binding of the pattern (attributes included) on `class`, at most `limit`.
    pub fn match_pattern<N: Analysis<Node>>(&self, egraph: &EGraph<Node, N>, class: Id, limit: usize) -> (Vec<Bindings>, Option<MatchFailure>) {
        self.match_tracked(egraph, class, limit, true)
    }

    fn match_tracked<N: Analysis<Node>>(&self, egraph: &EGraph<Node, N>, class: Id, limit: usize, explain: bool) -> (Vec<Bindings>, Option<MatchFailure>) {
        let mut t = Tracker { best: None, enabled: explain };
        let mut out = match_pat(egraph, &self.lhs, class, &mut vec![], Bindings::default(), &mut t);
        out.truncate(limit);
        (out, t.best)
    }

    /// Runs pattern, guards and right-hand-side evaluation on one e-class without changing
    /// the e-graph: the bindings that would apply, or why none does.
    pub fn try_class<N: Analysis<Node>>(&self, egraph: &EGraph<Node, N>, class: Id) -> Result<Vec<Bindings>, MatchFailure>
    where
        N::Data: ClassData,
    {
        let (matches, fail) = self.match_pattern(egraph, class, usize::MAX);
        let mut t = Tracker { best: fail, enabled: true };
        let facts = EGraphFacts(egraph);
        let mut ok = vec![];
        for b in matches {
            if let Some(b) = self.run_clauses(b, &facts, &mut t) {
                match self.plan(&b, egraph, &facts) {
                    Ok(_) => ok.push(b),
                    Err(detail) => t.fail(&[], FailReason::Build { detail }),
                }
            }
        }
        if ok.is_empty() {
            Err(t.best.unwrap_or(MatchFailure { path: vec![], reason: FailReason::NoOp { expected: "a match".into(), found: vec![] } }))
        } else {
            Ok(ok)
        }
    }

    fn run_clauses(&self, mut env: Bindings, facts: &dyn ClassFacts, t: &mut Tracker) -> Option<Bindings> {
        // `let` names bound so far: a failed guard or `let` that reads one shows its value.
        let mut lets: Vec<&str> = vec![];
        for c in &self.clauses {
            match c {
                Clause::Where(gs) => {
                    for g in gs {
                        match eval(g, &env, facts) {
                            Ok(Value::Bool(true)) => {}
                            Ok(_) => {
                                let detail = guard_detail(g, &env, facts) + &let_values(g, &lets, &env);
                                t.fail(&[], FailReason::Guard { guard: g.to_string(), detail, span: g.span() });
                                return None;
                            }
                            Err(m) => {
                                let detail = m + &let_values(g, &lets, &env);
                                t.fail(&[], FailReason::Guard { guard: g.to_string(), detail, span: g.span() });
                                return None;
                            }
                        }
                    }
                }
                Clause::Let(n, e) => match eval(e, &env, facts) {
                    Ok(v) => {
                        env = env.with(&n.name, v);
                        lets.push(&n.name);
                    }
                    Err(m) => {
                        let detail = m + &let_values(e, &lets, &env);
                        t.fail(&[], FailReason::Guard { guard: format!("let {} = {e}", n.name), detail, span: n.span.to(e.span()) });
                        return None;
                    }
                },
            }
        }
        Some(env)
    }

    // ------------------------------------------------------------- building

    fn plan<N: Analysis<Node>>(&self, env: &Bindings, egraph: &EGraph<Node, N>, facts: &dyn ClassFacts) -> Result<Vec<Plan>, String> {
        match &self.action {
            Action::Rhs(Rhs::Term(t)) => Ok(vec![plan_term(t, env, egraph, facts)?]),
            Action::Rhs(Rhs::Outputs(ts, _)) => plan_args(ts, env, egraph, facts),
            Action::Custom(reg) => {
                let mut args = vec![];
                for name in &reg.input_order {
                    let var = reg.input_aliases.iter().find(|(n, _)| n == name && env.get(name).is_none()).map_or(name.as_str(), |(_, v)| v.as_str());
                    match env.get(var) {
                        Some(Value::Class(id)) => args.push(Plan::Class(egraph.find(*id))),
                        Some(Value::List(items)) if items.iter().all(|v| matches!(v, Value::Class(_))) => {
                            args.extend(items.iter().filter_map(|v| match v {
                                Value::Class(id) => Some(Plan::Class(egraph.find(*id))),
                                _ => None,
                            }))
                        }
                        _ => return Err(format!("input `{name}` is not bound to a tensor")),
                    }
                }
                let mut params = vec![];
                for (n, ty, e) in &reg.parameters {
                    let v = eval(e, env, facts)?;
                    let want = PARAM_TYPES.iter().find(|(t, _)| t == ty).map(|(_, t)| t.clone()).unwrap_or(Ty::Any);
                    params.push((Name::from(n.as_str()), coerce(v, &want, n)?));
                }
                Ok(vec![Plan::Node { node: Node::Custom { reg: reg.name.as_str().into(), params: Attrs::new(params), args: vec![] }, args }])
            }
        }
    }

    /// Applies the rule to every binding on `class` not in `done`; returns the classes that
    /// changed. `done` records the (class, match) pairs already applied: egg re-applies every
    /// match each iteration, and rebuilding a right-hand side (permuting weights) again only
    /// to find it in the e-graph would cost each iteration the model's size.
    fn apply_class<N: Analysis<Node>>(&self, egraph: &mut EGraph<Node, N>, class: Id, done: &Mutex<HashSet<(Id, Bindings)>>, failures: &FailureSink) -> Vec<Id>
    where
        N::Data: ClassData,
    {
        let class = egraph.find(class);
        let (matches, _) = self.match_tracked(egraph, class, usize::MAX, false);
        let mut plans = vec![];
        {
            let facts = EGraphFacts(&*egraph);
            let mut t = Tracker { best: None, enabled: false };
            let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
            for m in matches {
                if done.contains(&(class, m.clone())) {
                    continue;
                }
                if let Some(b) = self.run_clauses(m.clone(), &facts, &mut t) {
                    match self.plan(&b, egraph, &facts) {
                        Ok(p) => {
                            plans.push(p);
                            done.insert((class, m));
                        }
                        // The guards passed but the right-hand side cannot be built (a
                        // function failed: `1 / 0`, a fill past the size limit): the rule
                        // does not apply, and the conversion says so instead of staying silent.
                        Err(reason) => failures.lock().unwrap_or_else(|e| e.into_inner()).push(ApplyFailure { rule: self.name.clone(), class, reason }),
                    }
                }
            }
        }
        let mut changed = vec![];
        for p in plans {
            match (&self.action, p.len()) {
                // A node of one output is seeded as that output (no projection), so a tuple
                // of one term (`IdentityN(xs..) => (xs..)` on one input) is the node itself.
                (Action::Rhs(Rhs::Outputs(..)), n) if n != 1 => {
                    for (i, plan) in p.into_iter().enumerate() {
                        let proj = egraph.add(Node::Proj { index: i as u32, arg: [class] });
                        let id = add_plan(egraph, plan);
                        if egraph.union(proj, id) {
                            changed.push(proj);
                        }
                    }
                }
                _ => {
                    for plan in p {
                        let id = add_plan(egraph, plan);
                        if egraph.union(class, id) {
                            changed.push(class);
                        }
                    }
                }
            }
        }
        changed
    }

    /// The egg rewrite running this rule.
    pub fn to_rewrite<N: Analysis<Node>>(self: &Arc<Self>) -> Result<Rewrite<Node, N>, String>
    where
        N::Data: ClassData,
    {
        self.to_rewrite_reporting(FailureSink::default())
    }

    /// The egg rewrite running this rule, recording into `failures` every match whose
    /// right-hand side could not be built.
    pub fn to_rewrite_reporting<N: Analysis<Node>>(self: &Arc<Self>, failures: FailureSink) -> Result<Rewrite<Node, N>, String>
    where
        N::Data: ClassData,
    {
        self.to_rewrite_profiled(failures, Arc::default(), Budget::unlimited())
    }

    /// The egg rewrite running this rule, reporting failures into `failures` and adding its
    /// search and apply time and match count to `profile` (for `convert --stats`), and
    /// stopping its search and application when `budget` is spent.
    pub fn to_rewrite_profiled<N: Analysis<Node>>(
        self: &Arc<Self>,
        failures: FailureSink,
        profile: Arc<RuleProfile>,
        budget: Budget,
    ) -> Result<Rewrite<Node, N>, String>
    where
        N::Data: ClassData,
    {
        Rewrite::new(
            self.name.as_str(),
            RuleSearcher::new(self.clone(), profile.clone()).with_budget(budget.clone()),
            RuleApplier::new(self.clone(), failures).with_profile(profile).with_budget(budget),
        )
    }
}

/// Converts a computed value to what a typed slot stores (ints widen to floats, lists of
/// numbers to float lists), or says why it cannot.
fn coerce(v: Value, want: &Ty, what: &str) -> Result<Value, String> {
    Ok(match (want, v) {
        (Ty::Float, Value::Int(i)) => Value::float(i as f64),
        (Ty::Float, v @ Value::Float(_)) => v,
        (Ty::Int, Value::Float(f)) if f.0.fract() == 0.0 => Value::Int(f.0 as i64),
        (Ty::List(e), Value::List(items)) => Value::List(items.into_iter().map(|i| coerce(i, e, what)).collect::<Result<_, _>>()?),
        (Ty::Any, v) => v,
        (want, v) => {
            let ok = matches!(
                (want, &v),
                (Ty::Int, Value::Int(_)) | (Ty::Bool, Value::Bool(_)) | (Ty::Str, Value::Str(_)) | (Ty::DType, Value::DType(_)) | (Ty::Tensor, Value::Tensor(_))
            );
            if !ok {
                return Err(format!("`{what}` must be {want}, got {v}"));
            }
            v
        }
    })
}

fn to_tensor(v: Value) -> Result<Arc<Tensor>, String> {
    match v {
        Value::Tensor(t) => Ok(t),
        Value::Int(i) => Ok(Arc::new(Tensor::scalar_i32(i))),
        Value::Float(f) => Ok(Arc::new(Tensor::scalar_f32(f.0 as f32))),
        Value::List(items) => {
            if items.iter().all(|i| matches!(i, Value::Int(_))) {
                let v: Vec<i64> = items.iter().filter_map(Value::as_int).collect();
                Ok(Arc::new(Tensor::from_i64(DType::Int32, vec![v.len()], v)))
            } else {
                let v = items.iter().map(|i| i.as_f64().map(|x| x as f32).ok_or_else(|| format!("{i} is not a number"))).collect::<Result<Vec<_>, _>>()?;
                Ok(Arc::new(Tensor::from_f32(vec![v.len()], v)))
            }
        }
        v => Err(format!("cannot make a constant from {v}")),
    }
}

/// The classes of a list variable (`xs` of `xs..`).
fn class_list(env: &Bindings, list: &ast::Ident) -> Result<Vec<Id>, String> {
    match env.get(&list.name) {
        Some(Value::List(items)) => items
            .iter()
            .map(|v| match v {
                Value::Class(id) => Ok(*id),
                v => Err(format!("`{}` holds {v}, not a tensor", list.name)),
            })
            .collect(),
        Some(v) => Err(format!("`{}` is {v}, not a list of tensors", list.name)),
        None => Err(format!("`{}` is not bound", list.name)),
    }
}

/// Arguments (or outputs) with spreads expanded: `xs..` one plan per element.
fn plan_args<N: Analysis<Node>>(ts: &[Term], env: &Bindings, egraph: &EGraph<Node, N>, facts: &dyn ClassFacts) -> Result<Vec<Plan>, String> {
    let mut out = vec![];
    for t in ts {
        match t {
            Term::Spread(list, _) => out.extend(class_list(env, list)?.into_iter().map(|id| Plan::Class(egraph.find(id)))),
            Term::Map { body, var, list, .. } => {
                for id in class_list(env, list)? {
                    out.push(plan_term(body, &env.with(&var.name, Value::Class(id)), egraph, facts)?);
                }
            }
            t => out.push(plan_term(t, env, egraph, facts)?),
        }
    }
    Ok(out)
}

fn plan_term<N: Analysis<Node>>(t: &Term, env: &Bindings, egraph: &EGraph<Node, N>, facts: &dyn ClassFacts) -> Result<Plan, String> {
    match t {
        Term::Spread(list, _) | Term::Map { list, .. } => Err(format!("the list `{}` cannot stand for one tensor", list.name)),
        Term::Fold(inner, _) => {
            let Plan::Node { node, args } = plan_term(inner, env, egraph, facts)? else {
                return Err("`fold` needs an op".into());
            };
            let mut args = args.into_iter();
            let first = args.next().ok_or_else(|| "`fold` over no arguments".to_string())?;
            Ok(args.fold(first, |acc, next| Plan::Node { node: node.clone(), args: vec![acc, next] }))
        }
        Term::Var(id) => match env.get(&id.name) {
            Some(Value::Class(c)) => Ok(Plan::Class(egraph.find(*c))),
            Some(v) => Err(format!("`{}` is {v}, not a tensor", id.name)),
            None => Err(format!("`{}` is not bound", id.name)),
        },
        Term::Const(e, _) => Ok(Plan::Const(to_tensor(eval(e, env, facts)?)?)),
        Term::Proj(inner, n, _) => Ok(Plan::Proj(*n, Box::new(plan_term(inner, env, egraph, facts)?))),
        Term::Op { op, args, params, .. } => {
            let args = plan_args(args, env, egraph, facts)?;
            let mut vals = vec![];
            let kind = if is_tf_name(&op.name) { None } else { layers::layer_kind(&op.name) };
            for (n, e) in params {
                let v = eval(e, env, facts)?;
                let v = match kind.and_then(|k| k.param(&n.name)) {
                    Some(pt) => {
                        let v = coerce(v, &super::check::param_ty(pt), &n.name)?;
                        match (pt, &v) {
                            (ParamType::UInt, Value::Int(i)) if *i < 0 => return Err(format!("`{}` must be >= 0, got {i}", n.name)),
                            (ParamType::UInts, Value::List(l)) if l.iter().any(|x| x.as_int().is_some_and(|i| i < 0)) => {
                                return Err(format!("`{}` must not be negative, got {v}", n.name))
                            }
                            (ParamType::Enum(ok), Value::Str(s)) if !ok.contains(&s.as_str()) => {
                                return Err(format!("`{}` must be one of {ok:?}, got {s:?}", n.name))
                            }
                            (ParamType::Enums(ok), Value::List(l)) if l.iter().any(|x| !matches!(x, Value::Str(s) if ok.contains(&s.as_str()))) => {
                                return Err(format!("`{}` must list values of {ok:?}, got {v}", n.name))
                            }
                            _ => v,
                        }
                    }
                    None => v,
                };
                vals.push((Name::from(n.name.as_str()), v));
            }
            let attrs = Attrs::new(vals);
            let node = if is_tf_name(&op.name) {
                Node::Tf { op: op.name.as_str().into(), attrs, args: vec![] }
            } else {
                Node::Nn { kind: op.name.as_str().into(), params: attrs, args: vec![] }
            };
            Ok(Plan::Node { node, args })
        }
    }
}

fn add_plan<N: Analysis<Node>>(egraph: &mut EGraph<Node, N>, p: Plan) -> Id {
    match p {
        Plan::Class(id) => id,
        Plan::Const(t) => egraph.add(Node::Const(t)),
        Plan::Proj(n, inner) => {
            let a = add_plan(egraph, *inner);
            egraph.add(Node::Proj { index: n, arg: [a] })
        }
        Plan::Node { mut node, args } => {
            let ids: Vec<Id> = args.into_iter().map(|a| add_plan(egraph, a)).collect();
            match &mut node {
                Node::Tf { args, .. } | Node::Nn { args, .. } | Node::Custom { args, .. } => *args = ids,
                _ => {}
            }
            egraph.add(node)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The matcher

fn bind_value(env: &Bindings, name: &str, v: Value, path: &[usize], t: &mut Tracker) -> Option<Bindings> {
    match env.get(name) {
        Some(prev) if prev.loose_eq(&v) => Some(env.clone()),
        Some(prev) => {
            t.fail(path, FailReason::Conflict { var: name.to_string(), first: prev.to_string(), second: v.to_string() });
            None
        }
        None => Some(env.with(name, v)),
    }
}

fn match_pat<N: Analysis<Node>>(egraph: &EGraph<Node, N>, p: &Pattern, class: Id, path: &mut Vec<usize>, env: Bindings, t: &mut Tracker) -> Vec<Bindings> {
    let class = egraph.find(class);
    match p {
        Pattern::Wildcard(_) => vec![env],
        // The checker allows `xs..` only as an op argument (handled there).
        Pattern::Rest(..) => vec![],
        Pattern::Var(id) => bind_value(&env, &id.name, Value::Class(class), path, t).into_iter().collect(),
        Pattern::Bind(id, inner) => match bind_value(&env, &id.name, Value::Class(class), path, t) {
            Some(env) => match_pat(egraph, inner, class, path, env, t),
            None => vec![],
        },
        Pattern::Proj(inner, index, _) => {
            let mut out = vec![];
            let mut any = false;
            for node in egraph[class].iter() {
                if let Node::Proj { index: i, arg } = node {
                    if i == index {
                        any = true;
                        out.extend(match_pat(egraph, inner, arg[0], path, env.clone(), t));
                    }
                }
            }
            if !any && t.enabled {
                t.fail(path, FailReason::NoOp { expected: format!("output .{index}"), found: describe_class(egraph, class) });
            }
            out
        }
        Pattern::Op(o) => {
            let tf = is_tf_name(&o.op.name);
            let kind = if tf { None } else { layers::layer_kind(&o.op.name) };
            let mut out = vec![];
            let mut any = false;
            // `xs..` at argument `r` takes the inputs between the fixed ones before and after it.
            let rest = o.args.iter().position(|a| matches!(a, Pattern::Rest(..)));
            let fixed = o.args.len() - usize::from(rest.is_some());
            let arity_fits = |n: usize| if rest.is_some() { n >= fixed } else { n == fixed };
            for node in egraph[class].iter() {
                let (name, attrs, args) = match node {
                    Node::Tf { op, attrs, args } if tf => (op, attrs, args),
                    Node::Nn { kind, params, args } if !tf => (kind, params, args),
                    _ => continue,
                };
                if **name != *o.op.name || !arity_fits(args.len()) {
                    continue;
                }
                any = true;
                // Attributes first: cheap, and they bind variables the inputs may share.
                let mut envs = vec![env.clone()];
                for ap in &o.attrs {
                    let actual = attrs.get(&ap.name.name).cloned().or_else(|| kind.and_then(|k| k.param(&ap.name.name)).map(param_default));
                    let mut next = vec![];
                    for e in envs {
                        match &actual {
                            Some(v) => {
                                if let Some(e) = match_attr(&ap.value, v, e, path, t, &o.op.name, &ap.name.name) {
                                    next.push(e);
                                }
                            }
                            None => t.fail(path, FailReason::Attr { op: o.op.name.clone(), attr: ap.name.name.clone(), expected: ap.value.to_string(), found: None }),
                        }
                    }
                    envs = next;
                }
                // (pattern argument, first input index, inputs it covers)
                let extra = args.len() - fixed;
                let slots = o.args.iter().enumerate().map(|(j, pa)| match rest {
                    Some(r) if j == r => (pa, j, extra),
                    Some(r) if j > r => (pa, j + extra - 1, 1),
                    _ => (pa, j, 1),
                });
                for (pa, i, n) in slots {
                    let mut next = vec![];
                    if let Pattern::Rest(id, _) = pa {
                        let list = Value::List(args[i..i + n].iter().map(|c| Value::Class(egraph.find(*c))).collect());
                        next.extend(envs.into_iter().filter_map(|e| bind_value(&e, &id.name, list.clone(), path, t)));
                    } else {
                        path.push(i);
                        for e in envs {
                            next.extend(match_pat(egraph, pa, args[i], path, e, t));
                        }
                        path.pop();
                    }
                    envs = next;
                    if envs.is_empty() {
                        break;
                    }
                }
                out.extend(envs);
            }
            if !any && t.enabled {
                let inputs = if rest.is_some() { format!("at least {fixed}") } else { fixed.to_string() };
                t.fail(path, FailReason::NoOp { expected: format!("{} with {inputs} input(s)", o.op.name), found: describe_class(egraph, class) });
            }
            out
        }
    }
}

fn describe_class<N: Analysis<Node>>(egraph: &EGraph<Node, N>, class: Id) -> Vec<String> {
    let mut v: Vec<String> = egraph[class].iter().map(|n| format!("{n}({})", n.children().len())).collect();
    v.sort();
    v.dedup();
    v
}

fn match_attr(p: &AttrPat, v: &Value, env: Bindings, path: &[usize], t: &mut Tracker, op: &str, attr: &str) -> Option<Bindings> {
    let mismatch = |t: &mut Tracker| {
        t.fail(path, FailReason::Attr { op: op.to_string(), attr: attr.to_string(), expected: p.to_string(), found: Some(v.to_string()) });
        None
    };
    match p {
        AttrPat::Wildcard(_) => Some(env),
        AttrPat::Var(id) => match DType::from_name(&id.name) {
            Some(d) => {
                if *v == Value::DType(d) {
                    Some(env)
                } else {
                    mismatch(t)
                }
            }
            None => bind_value(&env, &id.name, v.clone(), path, t),
        },
        AttrPat::Lit(l, _) => {
            if lit_value(l).loose_eq(v) {
                Some(env)
            } else {
                mismatch(t)
            }
        }
        AttrPat::List(items, _) => match v {
            Value::List(vs) if vs.len() == items.len() => {
                let mut env = env;
                for (ip, iv) in items.iter().zip(vs) {
                    env = match_attr(ip, iv, env, path, t, op, attr)?;
                }
                Some(env)
            }
            _ => mismatch(t),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// egg glue

/// The left-hand side of a compiled rule as an egg `Searcher`, timing its searches into a
/// [`RuleProfile`].
pub struct RuleSearcher(pub Arc<CompiledRule>, Arc<RuleProfile>, Budget);

impl RuleSearcher {
    pub fn new(rule: Arc<CompiledRule>, profile: Arc<RuleProfile>) -> RuleSearcher {
        RuleSearcher(rule, profile, Budget::unlimited())
    }

    /// The same searcher, stopping (with the matches found so far) when `budget` is spent.
    pub fn with_budget(self, budget: Budget) -> RuleSearcher {
        RuleSearcher(self.0, self.1, budget)
    }
}

/// The budget of one saturation run as the rules see it, shared by every searcher and applier.
///
/// egg checks its node and time limits only between rules, so one rule matching 200,000
/// classes could add millions of e-nodes (and gigabytes) before the runner noticed. Each
/// applier checks the budget before every class it rewrites and each searcher before every
/// class it visits, and stops there: the rewrites not made are simply not in the e-graph
/// (sound, as every rewrite is an equality), and egg's own check then reports the limit.
#[derive(Clone, Debug)]
pub struct Budget(Arc<BudgetState>);

#[derive(Debug)]
struct BudgetState {
    nodes: usize,
    deadline: Option<Instant>,
    spent: std::sync::atomic::AtomicBool,
    /// Checks since the clock was last read: reading it for every class cost more than the
    /// match itself on a graph of cheap classes (a 30,000-op chain).
    ticks: std::sync::atomic::AtomicU32,
}

/// The clock is read on one check in this many (about a microsecond of matching apart).
const CLOCK_EVERY: u32 = 32;

impl Budget {
    /// At most `nodes` e-nodes, and until `deadline`.
    pub fn new(nodes: usize, deadline: Option<Instant>) -> Budget {
        Budget(Arc::new(BudgetState { nodes, deadline, spent: Default::default(), ticks: Default::default() }))
    }

    pub fn unlimited() -> Budget {
        Budget::new(usize::MAX, None)
    }

    /// Whether the e-graph (of `size` e-nodes) may still grow; once spent, stays spent.
    fn allows(&self, size: usize) -> bool {
        if self.0.spent.load(Ordering::Relaxed) {
            return false;
        }
        let read_clock = || self.0.ticks.fetch_add(1, Ordering::Relaxed) % CLOCK_EVERY == 0;
        if size > self.0.nodes || self.0.deadline.is_some_and(|d| read_clock() && Instant::now() >= d) {
            self.0.spent.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Whether a searcher or applier stopped early because the budget was spent.
    pub fn is_spent(&self) -> bool {
        self.0.spent.load(Ordering::Relaxed)
    }
}

/// The right-hand side (guards + builder) as an egg `Applier`, with the matches it already
/// applied (one applier per e-graph: `CompiledRule::to_rewrite` makes a fresh one), where
/// it reports right-hand sides that failed to build and where it adds its apply time.
pub struct RuleApplier(pub Arc<CompiledRule>, Mutex<HashSet<(Id, Bindings)>>, FailureSink, Arc<RuleProfile>, Budget);

impl RuleApplier {
    pub fn new(rule: Arc<CompiledRule>, failures: FailureSink) -> RuleApplier {
        RuleApplier(rule, Mutex::new(HashSet::new()), failures, Arc::default(), Budget::unlimited())
    }

    /// The same applier adding its time to `profile` (shared with the rule's searcher).
    pub fn with_profile(self, profile: Arc<RuleProfile>) -> RuleApplier {
        RuleApplier(self.0, self.1, self.2, profile, self.4)
    }

    /// Maps the matches already applied to the e-graph's current canonical ids. A union since
    /// the last iteration can change the canonical id of a class or of a class its match
    /// bound; the same match would then look new and its right-hand side (weight permutes
    /// and folds) be rebuilt for nothing.
    fn recanonicalize<N: Analysis<Node>>(&self, egraph: &EGraph<Node, N>) {
        let mut done = self.1.lock().unwrap_or_else(|e| e.into_inner());
        if !done.is_empty() {
            *done = done.drain().map(|(class, b)| (egraph.find(class), b.canonical(egraph))).collect();
        }
    }

    /// The same applier, stopping before the next class once `budget` is spent.
    pub fn with_budget(self, budget: Budget) -> RuleApplier {
        RuleApplier(self.0, self.1, self.2, self.3, budget)
    }
}

/// One rule's share of a saturation run, accumulated by its searcher and applier. egg's
/// `Iteration` only times all rules together; per rule is what finds the slow one (a guard
/// that recomputes tensors on every re-match shows as apply time, a pattern that visits many
/// classes as search time). Atomics because egg hands the searcher out by shared reference.
#[derive(Debug, Default)]
pub struct RuleProfile {
    search_ns: AtomicU64,
    apply_ns: AtomicU64,
    /// Substitutions found by the searches (egg's scheduler may discard some of them).
    matches: AtomicU64,
    /// Classes handed to the applier (each is re-matched and may add several terms).
    applied_classes: AtomicU64,
}

/// A snapshot of a [`RuleProfile`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleTiming {
    pub search: Duration,
    pub apply: Duration,
    pub matches: u64,
    pub applied_classes: u64,
}

impl RuleTiming {
    pub fn total(&self) -> Duration {
        self.search + self.apply
    }
}

impl RuleProfile {
    pub fn snapshot(&self) -> RuleTiming {
        RuleTiming {
            search: Duration::from_nanos(self.search_ns.load(Ordering::Relaxed)),
            apply: Duration::from_nanos(self.apply_ns.load(Ordering::Relaxed)),
            matches: self.matches.load(Ordering::Relaxed),
            applied_classes: self.applied_classes.load(Ordering::Relaxed),
        }
    }

    fn add(counter: &AtomicU64, since: Instant) {
        counter.fetch_add(u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// A match whose guards all passed but whose right-hand side could not be built: a function
/// failed on the matched values. The rule does not apply there; `convert` warns with the TF
/// nodes of `class`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyFailure {
    pub rule: String,
    /// The matched e-class (as it was when the rule ran).
    pub class: Id,
    pub reason: String,
}

/// Where the appliers of one saturation run report their [`ApplyFailure`]s.
pub type FailureSink = Arc<Mutex<Vec<ApplyFailure>>>;

impl RuleSearcher {
    /// The e-node head every match's root class must contain, when the pattern's root is an op.
    fn root_head(&self) -> Option<NodeHead> {
        fn head(p: &Pattern) -> Option<NodeHead> {
            match p {
                Pattern::Bind(_, p) => head(p),
                // A projection root matches only classes holding that `Proj` node.
                Pattern::Proj(_, index, _) => Some(NodeHead::Proj(*index)),
                Pattern::Op(o) => {
                    let name = o.op.name.as_str().into();
                    Some(if is_tf_name(&o.op.name) { NodeHead::Tf(name) } else { NodeHead::Nn(name) })
                }
                Pattern::Var(_) | Pattern::Wildcard(_) | Pattern::Rest(..) => None,
            }
        }
        head(&self.0.lhs)
    }

    /// Matches in `ids`, at most `limit` substitutions in all (egg's own loop is crate-private).
    fn search_classes<'a, N: Analysis<Node>>(&'a self, egraph: &EGraph<Node, N>, ids: impl Iterator<Item = Id>, mut limit: usize) -> Vec<SearchMatches<'a, Node>>
    where
        N::Data: ClassData,
    {
        let mut out = vec![];
        for id in ids {
            if limit == 0 || !self.2.allows(egraph.total_size()) {
                break;
            }
            if let Some(m) = egg::Searcher::search_eclass_with_limit(self, egraph, id, limit) {
                limit = limit.saturating_sub(m.substs.len());
                out.push(m);
            }
        }
        out
    }
}

impl<N: Analysis<Node>> egg::Searcher<Node, N> for RuleSearcher
where
    N::Data: ClassData,
{
    /// Visits only the classes holding a node of the pattern's root op, through egg's per-op
    /// class index, as egg's own `Pattern` does. The default visits every class for every rule
    /// in every iteration, which made saturation quadratic in practice (an unrolled chain of
    /// 10,000 ops spent 4.5 s there).
    fn search_with_limit(&self, egraph: &EGraph<Node, N>, limit: usize) -> Vec<SearchMatches<'_, Node>> {
        let start = Instant::now();
        let found = self.search_index(egraph, limit);
        RuleProfile::add(&self.1.search_ns, start);
        let n: usize = found.iter().map(|m| m.substs.len()).sum();
        self.1.matches.fetch_add(n as u64, Ordering::Relaxed);
        found
    }

    fn search_eclass_with_limit(&self, egraph: &EGraph<Node, N>, eclass: Id, limit: usize) -> Option<SearchMatches<'_, Node>> {
        self.search_one(egraph, eclass, limit)
    }

    fn vars(&self) -> Vec<Var> {
        self.0.node_vars.iter().filter_map(|n| format!("?{n}").parse().ok()).collect()
    }
}

impl RuleSearcher {
    fn search_index<N: Analysis<Node>>(&self, egraph: &EGraph<Node, N>, limit: usize) -> Vec<SearchMatches<'_, Node>>
    where
        N::Data: ClassData,
    {
        match self.root_head() {
            Some(head) => match egraph.classes_for_op(&head) {
                Some(ids) => self.search_classes(egraph, ids, limit),
                None => vec![],
            },
            None => self.search_classes(egraph, egraph.classes().map(|c| c.id), limit),
        }
    }

    fn search_one<N: Analysis<Node>>(&self, egraph: &EGraph<Node, N>, eclass: Id, limit: usize) -> Option<SearchMatches<'_, Node>>
    where
        N::Data: ClassData,
    {
        let (ms, _) = self.0.match_tracked(egraph, eclass, limit, false);
        if ms.is_empty() {
            return None;
        }
        let vars = egg::Searcher::<Node, N>::vars(self);
        let substs = ms
            .iter()
            .map(|b| {
                let mut s = Subst::with_capacity(vars.len());
                for (v, name) in vars.iter().zip(&self.0.node_vars) {
                    if let Some(Value::Class(id)) = b.get(name) {
                        s.insert(*v, *id);
                    }
                }
                s
            })
            .collect();
        Some(SearchMatches { eclass, substs, ast: None })
    }
}

impl<N: Analysis<Node>> egg::Applier<Node, N> for RuleApplier
where
    N::Data: ClassData,
{
    fn apply_matches(&self, egraph: &mut EGraph<Node, N>, matches: &[SearchMatches<Node>], _rule: egg::Symbol) -> Vec<Id> {
        // Re-match each class once to recover attribute bindings (see the module comment).
        let start = Instant::now();
        self.recanonicalize(egraph);
        let mut changed = vec![];
        let mut applied = 0;
        for m in matches {
            if !self.4.allows(egraph.total_size()) {
                break;
            }
            changed.extend(self.0.apply_class(egraph, m.eclass, &self.1, &self.2));
            applied += 1;
        }
        RuleProfile::add(&self.3.apply_ns, start);
        self.3.applied_classes.fetch_add(applied, Ordering::Relaxed);
        changed
    }

    fn apply_one(&self, egraph: &mut EGraph<Node, N>, eclass: Id, _subst: &Subst, _ast: Option<&egg::PatternAst<Node>>, _rule: egg::Symbol) -> Vec<Id> {
        if !self.4.allows(egraph.total_size()) {
            return vec![];
        }
        let start = Instant::now();
        let changed = self.0.apply_class(egraph, eclass, &self.1, &self.2);
        RuleProfile::add(&self.3.apply_ns, start);
        self.3.applied_classes.fetch_add(1, Ordering::Relaxed);
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::lang::BasicFacts;
    use crate::rules::parser::parse_file;

    fn rule(src: &str) -> Arc<CompiledRule> {
        let (f, errs) = parse_file(src);
        assert!(errs.is_empty(), "{errs:?}");
        match &f.items[0] {
            ast::Item::Rule(r) => Arc::new(CompiledRule::from_rule(r)),
            _ => panic!("not a rule"),
        }
    }

    fn run(eg: EGraph<Node, BasicFacts>, rules: &[Arc<CompiledRule>]) -> EGraph<Node, BasicFacts> {
        let rws: Vec<Rewrite<Node, BasicFacts>> = rules.iter().map(|r| r.to_rewrite().unwrap()).collect();
        egg::Runner::default().with_egraph(eg).with_iter_limit(5).run(&rws).egraph
    }

    #[test]
    fn relu6_becomes_a_clip() {
        let r = rule("rule relu6: Relu6(x) => clip(x) { minVal = 0.0, maxVal = 6.0 }");
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let x = eg.add(Node::input("x", DType::Float32, Some(vec![Some(1), Some(4)])));
        let relu6 = eg.add(Node::tf("Relu6", vec![("T", Value::DType(DType::Float32))], vec![x]));
        let eg = run(eg, &[r]);
        let clip = Node::nn("clip", vec![("minVal", Value::float(0.0)), ("maxVal", Value::float(6.0))], vec![x]);
        let id = eg.lookup(clip).expect("clip node was added");
        assert_eq!(eg.find(id), eg.find(relu6));
    }

    /// The profile counts what the rule's searcher found and the classes its applier got,
    /// and a rule that never matches still records its (search) time but no match.
    #[test]
    fn profiles_count_matches_and_applied_classes() {
        let relu6 = rule("rule relu6: Relu6(x) => clip(x) { minVal = 0.0, maxVal = 6.0 }");
        let never = rule("rule tanh: Tanh(x) => activationTanh(x)");
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let x = eg.add(Node::input("x", DType::Float32, Some(vec![Some(1), Some(4)])));
        let a = eg.add(Node::tf("Relu6", vec![("T", Value::DType(DType::Float32))], vec![x]));
        eg.add(Node::tf("Relu6", vec![("T", Value::DType(DType::Float32))], vec![a]));
        let (p1, p2) = (Arc::<RuleProfile>::default(), Arc::<RuleProfile>::default());
        let rws: Vec<Rewrite<Node, BasicFacts>> = vec![
            relu6.to_rewrite_profiled(FailureSink::default(), p1.clone(), Budget::unlimited()).unwrap(),
            never.to_rewrite_profiled(FailureSink::default(), p2.clone(), Budget::unlimited()).unwrap(),
        ];
        let runner = egg::Runner::default().with_egraph(eg).with_iter_limit(5).run(&rws);
        let (t1, t2) = (p1.snapshot(), p2.snapshot());
        // Two Relu6 classes, searched once per iteration (the last finds them again but
        // changes nothing).
        assert_eq!(t1.matches, 2 * runner.iterations.len() as u64, "{t1:?}");
        assert_eq!(t1.applied_classes, t1.matches, "{t1:?}");
        assert_eq!((t2.matches, t2.applied_classes), (0, 0), "{t2:?}");
        assert!(t2.search > Duration::ZERO, "{t2:?}");
    }

    /// egg checks its node limit only after a whole rule has applied; the budget stops the
    /// applier inside it, one class past the limit.
    #[test]
    fn the_budget_stops_a_rule_inside_an_iteration() {
        let relu6 = rule("rule relu6: Relu6(x) => clip(x) { minVal = 0.0, maxVal = 6.0 }");
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let mut x = eg.add(Node::input("x", DType::Float32, Some(vec![Some(1), Some(4)])));
        for _ in 0..100 {
            x = eg.add(Node::tf("Relu6", vec![("T", Value::DType(DType::Float32))], vec![x]));
        }
        let seeded = eg.total_size();
        let limit = seeded + 10;
        let run = |budget: Budget| {
            let rw: Rewrite<Node, BasicFacts> = relu6.to_rewrite_profiled(FailureSink::default(), Arc::default(), budget).unwrap();
            egg::Runner::default().with_egraph(eg.clone()).with_node_limit(limit).with_iter_limit(1).run(&[rw])
        };
        // Without it, egg lets the rule rewrite all 100 classes before stopping.
        let unbounded = run(Budget::unlimited());
        assert_eq!(unbounded.egraph.total_size(), seeded + 100);
        let budget = Budget::new(limit, None);
        let bounded = run(budget.clone());
        assert_eq!(bounded.egraph.total_size(), limit + 1);
        assert!(budget.is_spent());
        assert!(matches!(bounded.stop_reason, Some(egg::StopReason::NodeLimit(_))), "{:?}", bounded.stop_reason);
    }

    #[test]
    fn transpose_pair_cancels() {
        let r = rule(
            "rule transpose_cancel: transpose(transpose(x) { axes = p }) { axes = q } \
             where is_identity_perm(compose_perm(p, q)) => x",
        );
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let x = eg.add(Node::input("x", DType::Float32, None));
        let t1 = eg.add(Node::nn("transpose", vec![("axes", Value::ints([0, 3, 1, 2]))], vec![x]));
        let t2 = eg.add(Node::nn("transpose", vec![("axes", Value::ints([0, 2, 3, 1]))], vec![t1]));
        // A pair that is not inverse must stay apart.
        let t3 = eg.add(Node::nn("transpose", vec![("axes", Value::ints([0, 3, 1, 2]))], vec![t1]));
        let eg = run(eg, &[r.clone()]);
        assert_eq!(eg.find(t2), eg.find(x));
        assert_ne!(eg.find(t3), eg.find(x));
        // And the matcher says why for t3.
        let why = r.try_class(&eg, t3).unwrap_err();
        assert!(matches!(why.reason, FailReason::Guard { .. }), "{why}");
        assert!(why.to_string().contains("is_identity_perm"), "{why}");
    }

    #[test]
    fn failure_names_the_input_and_the_ops_found() {
        let r = rule("rule fuse: BiasAdd(Conv2D(x, w), b) => x");
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let x = eg.add(Node::input("x", DType::Float32, None));
        let b = eg.add(Node::Const(Arc::new(Tensor::from_f32(vec![2], vec![1.0, 2.0]))));
        let relu = eg.add(Node::tf("Relu", vec![], vec![x]));
        let add = eg.add(Node::tf("BiasAdd", vec![], vec![relu, b]));
        let why = r.try_class(&eg, add).unwrap_err();
        assert_eq!(why.path, vec![0]);
        assert_eq!(why.to_string(), "at input 0: expected Conv2D with 2 input(s), found Relu(1)");
    }

    #[test]
    fn shared_variables_must_be_the_same_class() {
        let r = rule("rule sq: Mul(x, x) => x");
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let x = eg.add(Node::input("x", DType::Float32, None));
        let y = eg.add(Node::input("y", DType::Float32, None));
        let xx = eg.add(Node::tf("Mul", vec![], vec![x, x]));
        let xy = eg.add(Node::tf("Mul", vec![], vec![x, y]));
        assert!(r.try_class(&eg, xx).is_ok());
        let why = r.try_class(&eg, xy).unwrap_err();
        assert!(matches!(why.reason, FailReason::Conflict { .. }), "{why}");
    }

    #[test]
    fn multi_output_rule_maps_each_output() {
        let r = rule(
            "rule topk: TopKV2(x, k) { sorted = true } where is_const(k) \
             => (topK(x) { axis = -1, K = int_value(k) }.0, topK(x) { axis = -1, K = int_value(k) }.1)",
        );
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let x = eg.add(Node::input("x", DType::Float32, Some(vec![Some(2), Some(10)])));
        let k = eg.add(Node::Const(Arc::new(Tensor::scalar_i32(3))));
        let topk = eg.add(Node::tf("TopKV2", vec![("sorted", Value::Bool(true))], vec![x, k]));
        let values = eg.add(Node::Proj { index: 0, arg: [topk] });
        let indices = eg.add(Node::Proj { index: 1, arg: [topk] });
        let eg = run(eg, &[r]);
        let nn = eg.lookup(Node::nn("topK", vec![("axis", Value::Int(-1)), ("K", Value::Int(3))], vec![x])).expect("topK added");
        assert_eq!(eg.find(values), eg.find(eg.lookup(Node::Proj { index: 0, arg: [nn] }).unwrap()));
        assert_eq!(eg.find(indices), eg.find(eg.lookup(Node::Proj { index: 1, arg: [nn] }).unwrap()));
    }

    #[test]
    fn a_list_pattern_binds_every_variadic_input_and_spreads() {
        let r = rule("rule concat: ConcatV2(xs.., axis) where is_const(axis), len(xs) >= 2 => concatND(xs..) { axis = int_value(axis) }");
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let ins: Vec<Id> = (0..5).map(|i| eg.add(Node::input(&format!("x{i}"), DType::Float32, Some(vec![Some(2), Some(i + 1)])))).collect();
        let axis = eg.add(Node::Const(Arc::new(Tensor::scalar_i32(1))));
        let mut args = ins.clone();
        args.push(axis);
        let concat = eg.add(Node::tf("ConcatV2", vec![], args));
        let eg = run(eg, &[r]);
        let nn = eg.lookup(Node::nn("concatND", vec![("axis", Value::Int(1))], ins)).expect("concatND of the five inputs added");
        assert_eq!(eg.find(nn), eg.find(concat));
    }

    #[test]
    fn a_failed_all_guard_names_the_element() {
        let r = rule("rule f: AddN(xs..) where all(rank(x) == 2 for x in xs) => fold addBroadcastable(xs..)");
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let a = eg.add(Node::input("a", DType::Float32, Some(vec![Some(2), Some(3)])));
        let b = eg.add(Node::input("b", DType::Float32, Some(vec![Some(1), Some(2), Some(3)])));
        let sum = eg.add(Node::tf("AddN", vec![], vec![a, a, b]));
        let why = r.try_class(&eg, sum).unwrap_err();
        let text = why.to_string();
        assert!(text.contains("element 2 of `xs`") && text.contains("rank(x) = 3"), "{text}");
        // Two ranks of 2 and the fold builds ((a + a) + a).
        let ok = eg.add(Node::tf("AddN", vec![], vec![a, a, a]));
        let eg = run(eg, &[r]);
        let aa = eg.lookup(Node::nn("addBroadcastable", vec![], vec![a, a])).expect("first add");
        let aaa = eg.lookup(Node::nn("addBroadcastable", vec![], vec![aa, a])).expect("second add");
        assert_eq!(eg.find(aaa), eg.find(ok));
    }

    #[test]
    fn const_filter_is_transposed_by_an_attribute_function() {
        let r = rule(
            "rule conv: Conv2D(x, w) { padding = \"VALID\" } where is_const(w) \
             => convolution(x) { weights = permute(value(w), [3, 2, 0, 1]), outputChannels = dim(w, 3), padding = \"valid\" }",
        );
        let mut eg = EGraph::<Node, BasicFacts>::default();
        let x = eg.add(Node::input("x", DType::Float32, None));
        let w = eg.add(Node::Const(Arc::new(Tensor::from_f32(vec![1, 1, 2, 3], vec![0., 1., 2., 10., 11., 12.]))));
        let conv = eg.add(Node::tf("Conv2D", vec![("padding", Value::Str("VALID".into()))], vec![x, w]));
        let eg = run(eg, &[r]);
        let conv_nn = eg[conv].iter().find_map(|n| match n {
            Node::Nn { params, .. } => Some(params.clone()),
            _ => None,
        });
        let params = conv_nn.expect("convolution added");
        assert_eq!(params.get("outputChannels"), Some(&Value::Int(3)));
        match params.get("weights") {
            Some(Value::Tensor(t)) => assert_eq!(t.shape, vec![3, 2, 1, 1]),
            other => panic!("{other:?}"),
        }
    }
}
