//! Semantic checks of parsed rule files: name resolution (TF ops, NN layer kinds, attribute
//! functions, variables), arity, types of attribute expressions, registrations' binding
//! fields, duplicate names, and rules that can never fire. Every finding of every file is
//! collected; nothing stops at the first error.

use super::ast::*;
use super::diag::{Diagnostic, FileId};
use super::functions::{self, Ty};
use super::layers::{self, ParamType};
use super::ops::{OpCatalog, OpSig};
use super::value::DType;
use indexmap::IndexMap;
use std::collections::HashMap;

/// How a name is bound inside one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub ty: Ty,
    pub span: Span,
}

/// Result of checking a set of files.
#[derive(Debug, Default)]
pub struct CheckResult {
    pub diagnostics: Vec<Diagnostic>,
    /// Rules that can never fire (file, item index): the compiler skips them.
    pub dead: Vec<(FileId, usize)>,
}

/// Registration fields coremltools' binding requires, and the optional ones.
pub const REQUIRED_FIELDS: [&str; 4] = ["class_name", "input_order", "parameters", "description"];
pub const OPTIONAL_FIELDS: [&str; 2] = ["outputs", "reference"];
/// `CustomLayerParamValue` cases a parameter may use.
pub const PARAM_TYPES: [(&str, Ty); 4] = [("int", Ty::Int), ("double", Ty::Float), ("bool", Ty::Bool), ("string", Ty::Str)];

/// Is this the name of a TF op (capitalised) rather than an NN layer kind? One layer kind is
/// capitalised in the spec itself, `NonMaximumSuppression` (TF's ops are `NonMaxSuppression*`),
/// so a registered layer name is a layer whatever its case.
pub fn is_tf_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && super::layers::layer_kind(name).is_none()
}

struct Checker<'a> {
    catalog: &'a dyn OpCatalog,
    file: FileId,
    diags: Vec<Diagnostic>,
    sig_cache: HashMap<String, Option<OpSig>>,
    /// Ops some `infer` item declares: an op outside the catalog (a rule library's own
    /// intermediate form) is known once its outputs are declared.
    declared: std::collections::HashSet<String>,
}

/// Checks files together (names are global across them).
pub fn check_files(files: &[(FileId, &File)], catalog: &dyn OpCatalog) -> CheckResult {
    let declared = files
        .iter()
        .flat_map(|(_, f)| f.items.iter())
        .filter_map(|item| match item {
            Item::Infer(i) => Some(i.op.name.clone()),
            _ => None,
        })
        .collect();
    let mut ck = Checker { catalog, file: 0, diags: vec![], sig_cache: HashMap::new(), declared };
    let mut names: HashMap<String, (FileId, Span)> = HashMap::new();
    let mut infers: HashMap<String, (FileId, Span)> = HashMap::new();
    let mut seen_patterns: Vec<(String, FileId, usize, String, Span)> = vec![];
    let mut dead = vec![];
    for (fid, file) in files {
        ck.file = *fid;
        for (idx, item) in file.items.iter().enumerate() {
            let (name, table, what) = match item {
                Item::Infer(i) => (&i.op, &mut infers, "output types for this op are"),
                Item::Rule(r) => (&r.name, &mut names, "a rule or registration with this name is"),
                Item::Custom(c) => (&c.name, &mut names, "a rule or registration with this name is"),
            };
            if let Some((f0, s0)) = table.get(&name.name) {
                ck.diags.push(
                    Diagnostic::error("rules::duplicate-name", *fid, name.span, format!("`{}` is defined twice", name.name))
                        .label("second definition")
                        .related(*f0, *s0, format!("{what} first defined here"))
                        .help("rename one of them; to replace a standard rule, put yours in a --rules directory"),
                );
            } else {
                table.insert(name.name.clone(), (*fid, name.span));
            }
            match item {
                Item::Rule(r) => {
                    let before = ck.diags.iter().filter(|d| d.is_error()).count();
                    ck.rule(r);
                    let ok = ck.diags.iter().filter(|d| d.is_error()).count() == before;
                    if ok {
                        let key = canonical_key(&r.lhs, &r.clauses);
                        if let Some((first, f0, _, _, s0)) = seen_patterns.iter().find(|p| p.3 == key) {
                            ck.diags.push(
                                Diagnostic::warning(
                                    "rules::shadowed-rule",
                                    *fid,
                                    r.lhs.span(),
                                    format!("rule `{}` can never fire: `{first}` has the same pattern and guards", r.name.name),
                                )
                                .label("identical to an earlier pattern")
                                .related(*f0, *s0, format!("`{first}` matches first"))
                                .help("the first rule with a given pattern wins; delete this one or make its pattern or guards differ"),
                            );
                            dead.push((*fid, idx));
                        } else if ck.has_false_guard(r) {
                            dead.push((*fid, idx));
                        } else {
                            seen_patterns.push((r.name.name.clone(), *fid, idx, key, r.lhs.span()));
                        }
                    }
                }
                Item::Custom(c) => ck.custom(c),
                Item::Infer(i) => ck.infer(i),
            }
        }
    }
    let mut diagnostics = ck.diags;
    super::diag::sort(&mut diagnostics);
    CheckResult { diagnostics, dead }
}

/// A rule's pattern and guards with variables renamed by first occurrence, so `Relu(x)` and
/// `Relu(y)` compare equal.
fn canonical_key(lhs: &Pattern, clauses: &[Clause]) -> String {
    let mut text = format!("{lhs}");
    for c in clauses {
        match c {
            Clause::Where(g) => {
                for e in g {
                    text.push_str(&format!(" where {e}"));
                }
            }
            Clause::Let(n, e) => text.push_str(&format!(" let {} = {e}", n.name)),
        }
    }
    // Rename identifiers that are variables: every lowercase-initial word not followed by `(`.
    let mut out = String::new();
    let mut names: IndexMap<String, usize> = IndexMap::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut in_str = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            in_str = !in_str;
        }
        if !in_str && (c.is_ascii_alphabetic() || c == '_') && (i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '.')) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let rest: String = chars[i..].iter().take(3).collect();
            let is_call = rest.starts_with('(');
            let is_attr_name = rest.starts_with(" = ") && !rest.starts_with(" ==");
            let keyword = super::parser::KEYWORDS.contains(&word.as_str()) || DType::from_name(&word).is_some();
            if is_call || is_attr_name || keyword || is_tf_name(&word) {
                out.push_str(&word);
            } else {
                let n = names.len();
                let k = *names.entry(word).or_insert(n);
                out.push_str(&format!("${k}"));
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

type Env = IndexMap<String, Binding>;

impl Checker<'_> {
    fn err(&mut self, code: &'static str, span: Span, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(code, self.file, span, msg));
        let n = self.diags.len() - 1;
        &mut self.diags[n]
    }

    fn sig(&mut self, op: &str) -> Option<OpSig> {
        if let Some(s) = self.sig_cache.get(op) {
            return s.clone();
        }
        let s = self.catalog.op(op);
        self.sig_cache.insert(op.to_string(), s.clone());
        s
    }

    // ---------------------------------------------------------------- patterns

    fn bind(&mut self, env: &mut Env, id: &Ident, ty: Ty) {
        if let Some(prev) = env.get(&id.name) {
            if prev.ty.join(&ty).is_none() {
                let (pty, pspan) = (prev.ty.clone(), prev.span);
                let file = self.file;
                let d = self.err("rules::type-mismatch", id.span, format!("`{}` is bound as {ty} here but as {pty} before", id.name));
                *d = d.clone().label(format!("{ty}")).related(file, pspan, format!("bound as {pty} here")).help(
                    "a variable that appears twice must stand for the same kind of thing; use two names",
                );
            }
            return;
        }
        env.insert(id.name.clone(), Binding { ty, span: id.span });
    }

    fn pattern(&mut self, p: &Pattern, env: &mut Env) -> Option<usize> {
        match p {
            Pattern::Var(id) => {
                self.check_var_name(id);
                self.bind(env, id, Ty::Node);
                None
            }
            Pattern::Wildcard(_) => None,
            Pattern::Bind(id, inner) => {
                self.check_var_name(id);
                self.bind(env, id, Ty::Node);
                self.pattern(inner, env)
            }
            Pattern::Proj(inner, n, span) => {
                let outs = self.pattern(inner, env);
                if let Some(k) = outs {
                    if *n as usize >= k {
                        let d = self.err("rules::bad-output-index", *span, format!("output {n} does not exist: the op has {k} output(s)"));
                        *d = d.clone().label("projection").help(format!("valid indices are 0 to {}", k.saturating_sub(1)));
                    }
                }
                Some(1)
            }
            Pattern::Op(o) => self.op_pattern(o, env),
            Pattern::Rest(id, span) => {
                let d = self.err("rules::not-variadic", *span, format!("`{}..` can only be an argument of an op", id.name));
                *d = d.clone().label("not an argument").help("`xs..` binds the inputs of an op's variadic operand, e.g. `ConcatV2(xs.., axis)`");
                self.bind(env, id, Ty::list(Ty::Node));
                None
            }
        }
    }

    /// Checks where `xs..` arguments sit: at most one per op, at the OpDef's variadic operand
    /// of a TF op (which then has exactly one argument per OpDef input), or in a layer that
    /// takes any number of inputs. Returns whether the op has one.
    fn rest_args(&mut self, op: &Ident, rests: &[(usize, Span)], n_args: usize, sig: Option<&OpSig>, kind: Option<&layers::LayerKind>, what: &str) -> bool {
        let Some(&(pos, span)) = rests.first() else { return false };
        if let Some(&(_, second)) = rests.get(1) {
            let file = self.file;
            let d = self.err("rules::not-variadic", second, format!("`{}` has a second {what}", op.name));
            *d = d.clone().label("second list").related(file, span, "first list").help("an op has one variadic operand; bind the others one by one");
            return true;
        }
        if let Some(sig) = sig {
            match sig.variadic_input {
                None => {
                    let d = self.err("rules::not-variadic", span, format!("TF op `{}` has no variadic input", op.name));
                    *d = d.clone().label(format!("{what} here")).help(format!("{}({}) takes one tensor per input", op.name, sig.inputs.join(", ")));
                }
                Some(v) if v != pos || n_args != sig.inputs.len() => {
                    let mut shape: Vec<String> = sig.inputs.clone();
                    shape[v] = format!("{}..", sig.inputs[v]);
                    let d = self.err("rules::not-variadic", span, format!("the variadic input of `{}` is `{}`, input {v}", op.name, sig.inputs[v]));
                    *d = d.clone().label(format!("{what} at argument {pos} of {n_args}")).help(format!("write {}({})", op.name, shape.join(", ")));
                }
                Some(_) => {}
            }
        } else if let Some(kind) = kind {
            if kind.max_inputs.is_some() {
                let d = self.err("rules::not-variadic", span, format!("`{}` takes {} input(s), not a list", kind.name, kind.arity_text()));
                let help = if kind.min_inputs <= 2 && kind.max_inputs.is_some_and(|m| m >= 2) {
                    format!("`fold {}(xs..)` chains it over the list: {0}({0}(x0, x1), x2)...", kind.name)
                } else {
                    "only layers with any number of inputs (concatND, stack, add, ...) take a list".to_string()
                };
                *d = d.clone().label(format!("{what} here")).help(help);
            }
        }
        true
    }

    fn check_var_name(&mut self, id: &Ident) {
        if DType::from_name(&id.name).is_some() {
            let d = self.err("rules::reserved-name", id.span, format!("`{}` is a dtype name and cannot be a variable", id.name));
            *d = d.clone().label("reserved");
        }
    }

    /// Returns the op's number of outputs when known.
    fn op_pattern(&mut self, o: &OpPattern, env: &mut Env) -> Option<usize> {
        let mut rests = vec![];
        for (i, a) in o.args.iter().enumerate() {
            match a {
                Pattern::Rest(id, span) => {
                    self.check_var_name(id);
                    self.bind(env, id, Ty::list(Ty::Node));
                    rests.push((i, *span));
                }
                a => {
                    self.pattern(a, env);
                }
            }
        }
        let name = &o.op.name;
        if is_tf_name(name) {
            let sig = self.sig(name);
            let has_rest = self.rest_args(&o.op, &rests, o.args.len(), sig.as_ref(), None, "input list");
            if let (Some(sig), false) = (&sig, has_rest) {
                self.tf_arity(&o.op, sig, o.args.len(), o.span);
            }
            for ap in &o.attrs {
                let ty = match &sig {
                    Some(s) => match s.attr(&ap.name.name) {
                        Some(t) => t.clone(),
                        None => {
                            let known: Vec<_> = s.attrs.iter().map(|(n, _)| n.as_str()).collect();
                            let d = self.err("rules::unknown-attribute", ap.name.span, format!("TF op `{name}` has no attribute `{}`", ap.name.name));
                            *d = d.clone().label("unknown attribute").help(format!("its attributes are: {}", known.join(", ")));
                            Ty::Any
                        }
                    },
                    None => Ty::Any,
                };
                if let (Some(s), AttrPat::Lit(Lit::Str(v), span)) = (&sig, &ap.value) {
                    if let Some(allowed) = s.allowed(&ap.name.name) {
                        if !allowed.contains(v) {
                            let d = self.err("rules::type-mismatch", *span, format!("\"{v}\" is not a value `{name}.{}` can take", ap.name.name));
                            *d = d.clone().label("never matches").help(format!("allowed: {}", allowed.join(", ")));
                        }
                    }
                }
                self.attr_pat(&ap.value, &ty, env);
            }
            if sig.is_none() && !self.declared.contains(name) {
                let d = Diagnostic::warning("rules::unknown-tf-op", self.file, o.op.span, format!("TF op `{name}` is not in the op catalog"))
                    .label("inputs and attributes not checked")
                    .help("check the spelling; ops of the catalog are checked for arity and attribute types");
                self.diags.push(d);
            }
            sig.and_then(|s| s.num_outputs())
        } else {
            let Some(kind) = self.layer(&o.op) else { return None };
            if !self.rest_args(&o.op, &rests, o.args.len(), None, Some(kind), "input list") {
                self.layer_arity(&o.op, kind, o.args.len(), o.span);
            }
            for ap in &o.attrs {
                match kind.param(&ap.name.name) {
                    Some(pt) => self.attr_pat(&ap.value, &param_ty(pt), env),
                    None => self.unknown_param(kind, &ap.name),
                }
            }
            kind.outputs
        }
    }

    fn attr_pat(&mut self, p: &AttrPat, ty: &Ty, env: &mut Env) {
        match p {
            AttrPat::Var(id) => {
                if let Some(d) = DType::from_name(&id.name) {
                    let _ = d;
                    if !Ty::DType.fits(ty) {
                        let d = self.err("rules::type-mismatch", id.span, format!("expected {ty}, found the dtype `{}`", id.name));
                        *d = d.clone().label("dtype");
                    }
                    return;
                }
                self.bind(env, id, ty.clone());
            }
            AttrPat::Wildcard(_) => {}
            AttrPat::Lit(l, span) => {
                let lt = lit_ty(l);
                if !lt.fits(ty) {
                    let d = self.err("rules::type-mismatch", *span, format!("expected {ty}, found {lt} `{l}`"));
                    *d = d.clone().label(format!("this is {lt}"));
                }
            }
            AttrPat::List(items, span) => {
                let elem = match ty {
                    Ty::List(e) => (**e).clone(),
                    Ty::Any => Ty::Any,
                    other => {
                        let d = self.err("rules::type-mismatch", *span, format!("expected {other}, found a list"));
                        *d = d.clone().label("list");
                        return;
                    }
                };
                for it in items {
                    self.attr_pat(it, &elem, env);
                }
            }
        }
    }

    fn layer(&mut self, id: &Ident) -> Option<&'static layers::LayerKind> {
        let k = layers::layer_kind(&id.name);
        if k.is_none() {
            let similar = layers::similar_layers(&id.name);
            let d = self.err("rules::unknown-layer", id.span, format!("unknown NN layer kind `{}`", id.name));
            let help = if layers::CONTROL_FLOW.contains(&id.name.as_str()) {
                format!("`{}` holds nested networks: control flow is lowered separately (issue 13), not built by rules", id.name)
            } else if similar.is_empty() {
                "NN layer kinds are Core ML layer names (convolution, innerProduct, activationReLU, ...); TF ops start with a capital letter".to_string()
            } else {
                format!("did you mean {}?", similar.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" or "))
            };
            *d = d.clone().label("not a layer kind").help(help);
        }
        k
    }

    fn unknown_param(&mut self, kind: &layers::LayerKind, name: &Ident) {
        let list: Vec<_> = kind.params.iter().map(|p| p.0).collect();
        let d = self.err("rules::unknown-parameter", name.span, format!("`{}` has no parameter `{}`", kind.name, name.name));
        *d = d.clone().label("unknown parameter").help(if list.is_empty() {
            format!("`{}` ({}) takes no parameters", kind.name, kind.message)
        } else {
            format!("{} has: {}", kind.message, list.join(", "))
        });
    }

    fn tf_arity(&mut self, op: &Ident, sig: &OpSig, n: usize, span: Span) {
        if !sig.accepts_inputs(n) {
            let want = match sig.variadic_input {
                Some(_) => format!("at least {}", sig.inputs.len().saturating_sub(1)),
                None => sig.inputs.len().to_string(),
            };
            let d = self.err("rules::wrong-arity", span, format!("`{}` takes {want} input(s), found {n}", op.name));
            *d = d.clone().label(format!("{n} input(s)")).help(format!("{}({})", op.name, sig.inputs.join(", ")));
        }
    }

    fn layer_arity(&mut self, op: &Ident, kind: &layers::LayerKind, n: usize, span: Span) {
        let ok = n >= kind.min_inputs && kind.max_inputs.is_none_or(|m| n <= m);
        if !ok {
            let d = self.err("rules::wrong-arity", span, format!("`{}` takes {} input(s), found {n}", op.name, kind.arity_text()));
            *d = d.clone().label(format!("{n} input(s)"));
        }
    }

    // ---------------------------------------------------------------- clauses and expressions

    fn clauses(&mut self, cs: &[Clause], env: &mut Env) {
        for c in cs {
            match c {
                Clause::Where(gs) => {
                    for g in gs {
                        let t = self.expr(g, env);
                        if !t.fits(&Ty::Bool) {
                            let d = self.err("rules::type-mismatch", g.span(), format!("a guard must be a bool, this is {t}"));
                            *d = d.clone().label(format!("{t}")).help("compare it, e.g. `rank(x) == 4`");
                        }
                    }
                }
                Clause::Let(n, e) => {
                    let t = self.expr(e, env);
                    if let Some(prev) = env.get(&n.name) {
                        let ps = prev.span;
                        let file = self.file;
                        let d = self.err("rules::duplicate-name", n.span, format!("`{}` is already bound", n.name));
                        *d = d.clone().label("rebinding").related(file, ps, "bound here");
                    } else {
                        self.check_var_name(n);
                        env.insert(n.name.clone(), Binding { ty: t, span: n.span });
                    }
                }
            }
        }
    }

    fn unbound(&mut self, id: &Ident, env: &Env) {
        let bound: Vec<_> = env.keys().map(String::as_str).collect();
        let d = self.err("rules::unbound-variable", id.span, format!("variable `{}` is not bound by the left-hand side", id.name));
        *d = d.clone().label("never bound").help(if bound.is_empty() {
            "the pattern binds no variables".to_string()
        } else {
            format!("bound here: {}", bound.join(", "))
        });
    }

    fn expr(&mut self, e: &Expr, env: &Env) -> Ty {
        match e {
            Expr::Lit(l, _) => lit_ty(l),
            Expr::Var(id) => {
                if DType::from_name(&id.name).is_some() {
                    return Ty::DType;
                }
                match env.get(&id.name) {
                    Some(b) => b.ty.clone(),
                    None => {
                        self.unbound(id, env);
                        Ty::Any
                    }
                }
            }
            Expr::List(items, span) => {
                let mut t = Ty::Any;
                for it in items {
                    let it_t = self.expr(it, env);
                    match t.join(&it_t) {
                        Some(j) => t = j,
                        None => {
                            let file = self.file;
                            let d = self.err("rules::type-mismatch", it.span(), format!("list elements must have one type: {t} and {it_t}"));
                            *d = d.clone().label(format!("{it_t}")).related(file, *span, "in this list");
                        }
                    }
                }
                Ty::list(t)
            }
            Expr::Comp { body, var, list, span } => {
                let lt = self.expr(list, env);
                let elem = match lt {
                    Ty::List(e) => *e,
                    Ty::Any => Ty::Any,
                    other => {
                        let file = self.file;
                        let d = self.err("rules::type-mismatch", list.span(), format!("`for {} in ...` needs a list, found {other}", var.name));
                        *d = d.clone().label(format!("{other}")).related(file, *span, "in this comprehension");
                        Ty::Any
                    }
                };
                self.check_var_name(var);
                let mut inner = env.clone();
                inner.insert(var.name.clone(), Binding { ty: elem, span: var.span });
                Ty::list(self.expr(body, &inner))
            }
            Expr::If { cond, then, else_, span } => {
                let tc = self.expr(cond, env);
                if !tc.fits(&Ty::Bool) {
                    let d = self.err("rules::type-mismatch", cond.span(), format!("the condition of `... if c else ...` must be bool, found {tc}"));
                    *d = d.clone().label(format!("{tc}"));
                }
                let (ta, tb) = (self.expr(then, env), self.expr(else_, env));
                match ta.join(&tb) {
                    Some(t) => t,
                    None => {
                        let d = self.err("rules::type-mismatch", *span, format!("the two branches of a conditional must have one type: {ta} and {tb}"));
                        *d = d.clone().label(format!("{ta} if ... else {tb}"));
                        Ty::Any
                    }
                }
            }
            Expr::Unary(op, a, span) => {
                let t = self.expr(a, env);
                match op {
                    UnOp::Neg if t.is_numeric() => t,
                    UnOp::Not if t.fits(&Ty::Bool) => Ty::Bool,
                    _ => {
                        let d = self.err("rules::type-mismatch", *span, format!("cannot apply `{}` to {t}", if *op == UnOp::Neg { "-" } else { "not" }));
                        *d = d.clone().label(format!("{t}"));
                        Ty::Any
                    }
                }
            }
            Expr::Binary(op, a, b, span) => {
                let ta = self.expr(a, env);
                let tb = self.expr(b, env);
                let bad = |this: &mut Self, why: &str| {
                    let d = this.err("rules::type-mismatch", *span, format!("`{}` cannot combine {ta} and {tb}{why}", op.symbol()));
                    *d = d.clone().label(format!("{ta} {} {tb}", op.symbol()));
                };
                match op {
                    BinOp::And | BinOp::Or => {
                        if !ta.fits(&Ty::Bool) || !tb.fits(&Ty::Bool) {
                            bad(self, "");
                        }
                        Ty::Bool
                    }
                    BinOp::Eq | BinOp::Ne => {
                        if ta.join(&tb).is_none() {
                            bad(self, "");
                        }
                        Ty::Bool
                    }
                    BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                        let ok = (ta.is_numeric() && tb.is_numeric()) || ta.join(&tb) == Some(Ty::Str);
                        if !ok {
                            bad(self, "");
                        }
                        Ty::Bool
                    }
                    BinOp::Add if matches!((&ta, &tb), (Ty::List(_), Ty::List(_))) => match ta.join(&tb) {
                        Some(t) => t,
                        None => {
                            bad(self, "");
                            Ty::Any
                        }
                    },
                    _ => {
                        if !ta.is_numeric() || !tb.is_numeric() {
                            bad(self, " (arithmetic needs numbers)");
                            return Ty::Any;
                        }
                        match (op, ta.join(&tb)) {
                            (BinOp::Div, Some(Ty::Int)) => Ty::Int,
                            (_, Some(t)) => t,
                            (_, None) => Ty::Any,
                        }
                    }
                }
            }
            Expr::Call(name, args, span) => {
                let tys: Vec<Ty> = args.iter().map(|a| self.expr(a, env)).collect();
                let Some(f) = functions::function(&name.name) else {
                    let d = self.err("rules::unknown-function", name.span, format!("unknown attribute function `{}`", name.name));
                    let mut similar: Vec<(usize, String)> = functions::FUNCTIONS
                        .iter()
                        .map(|f| (edit_distance(f.name, &name.name), f.signature()))
                        .filter(|(d, _)| *d <= 2)
                        .collect();
                    similar.sort();
                    let similar: Vec<String> = similar.into_iter().take(3).map(|(_, s)| format!("`{s}`")).collect();
                    *d = d.clone().label("not a function").help(if similar.is_empty() {
                        "see docs/rules.md for the list of attribute functions".to_string()
                    } else {
                        format!("did you mean {}?", similar.join(" or "))
                    });
                    return Ty::Any;
                };
                if args.len() != f.args.len() {
                    let d = self.err("rules::wrong-arity", *span, format!("`{}` takes {} argument(s), found {}", f.name, f.args.len(), args.len()));
                    *d = d.clone().label(format!("{} argument(s)", args.len())).help(f.signature());
                    return f.result_type(&vec![Ty::Any; f.args.len()]).unwrap_or(Ty::Any);
                }
                match f.result_type(&tys) {
                    Ok(t) => t,
                    Err((i, want)) => {
                        let got = &tys[i];
                        let d = self.err("rules::type-mismatch", args[i].span(), format!("argument {} of `{}` must be {want}, found {got}", i + 1, f.name));
                        *d = d.clone().label(format!("{got}")).help(f.signature());
                        Ty::Any
                    }
                }
            }
        }
    }

    /// A guard that is a constant expression and evaluates to false.
    fn has_false_guard(&mut self, r: &Rule) -> bool {
        let mut found = false;
        for c in &r.clauses {
            if let Clause::Where(gs) = c {
                for g in gs {
                    if !mentions_variables(g) {
                        if let Ok(super::value::Value::Bool(false)) = super::compile::eval_const(g) {
                            self.diags.push(
                                Diagnostic::warning("rules::guard-always-false", self.file, g.span(), format!("rule `{}` can never fire: this guard is always false", r.name.name))
                                    .label("evaluates to false on constants")
                                    .help("fix the comparison or delete the rule"),
                            );
                            found = true;
                        }
                    }
                }
            }
        }
        found
    }

    // ---------------------------------------------------------------- right-hand sides

    /// A list of tensors spread into arguments or outputs: `xs..` or `[t for x in xs]..`.
    fn spread(&mut self, t: &Term, env: &Env) {
        let list = match t {
            Term::Spread(id, _) | Term::Map { list: id, .. } => id,
            t => {
                self.term(t, env);
                return;
            }
        };
        match env.get(&list.name).map(|b| (b.ty.clone(), b.span)) {
            None => self.unbound(list, env),
            Some((Ty::List(e), _)) if matches!(*e, Ty::Node | Ty::Any) => {}
            Some((Ty::Any, _)) => {}
            Some((ty, span)) => {
                let file = self.file;
                let d = self.err("rules::type-mismatch", list.span, format!("`{}` is {ty}, not a list of tensors", list.name));
                *d = d.clone().label("spread here").related(file, span, "bound here").help("only an input list bound by `xs..` in the pattern (or a `let` of one) can be spread");
            }
        }
        if let Term::Map { body, var, .. } = t {
            self.check_var_name(var);
            let mut inner = env.clone();
            inner.insert(var.name.clone(), Binding { ty: Ty::Node, span: var.span });
            if let Some(k) = self.term(body, &inner) {
                if k != 1 {
                    let d = self.err("rules::output-count", body.span(), format!("each element must be one tensor, this term has {k} outputs"));
                    *d = d.clone().label(format!("{k} outputs")).help("project one output with `.N`");
                }
            }
        }
    }

    fn term(&mut self, t: &Term, env: &Env) -> Option<usize> {
        match t {
            Term::Spread(id, span) | Term::Map { list: id, span, .. } => {
                self.spread(t, env);
                let d = self.err("rules::not-variadic", *span, format!("a list (`{}..`) cannot stand for one tensor", id.name));
                *d = d.clone().label("a list of tensors").help("spread lists into the arguments of a variadic layer (`concatND(xs..)`), a `fold`, or the outputs `=> (xs..)`");
                None
            }
            Term::Fold(inner, span) => match &**inner {
                Term::Op { op, args, params, span: ispan } => self.op_term(op, args, params, *ispan, env, true),
                other => {
                    let d = self.err("rules::syntax", *span, "`fold` takes a layer applied to its arguments: `fold addBroadcastable(xs..)`");
                    *d = d.clone().label("not an op");
                    self.term(other, env)
                }
            },
            Term::Var(id) => {
                match env.get(&id.name) {
                    None => self.unbound(id, env),
                    Some(b) if matches!(&b.ty, Ty::List(e) if **e == Ty::Node) => {
                        let span = b.span;
                        let file = self.file;
                        let d = self.err("rules::type-mismatch", id.span, format!("`{}` is a list of tensors, not a tensor", id.name));
                        *d = d.clone().label("used as one tensor").related(file, span, "bound here").help(format!("spread it into a variadic layer: concatND({}..)", id.name));
                    }
                    Some(b) if b.ty != Ty::Node => {
                        let (ty, span) = (b.ty.clone(), b.span);
                        let file = self.file;
                        let d = self.err("rules::type-mismatch", id.span, format!("`{}` is {ty}, not a tensor", id.name));
                        *d = d.clone().label("used as a tensor").related(file, span, "bound here").help(format!("wrap a value in a constant: const({})", id.name));
                    }
                    _ => {}
                }
                None
            }
            Term::Const(e, span) => {
                let ty = self.expr(e, env);
                let ok = ty.fits(&Ty::Tensor) || ty.is_numeric() || ty.fits(&Ty::list(Ty::Float));
                if !ok {
                    let d = self.err("rules::type-mismatch", *span, format!("const(...) needs a tensor, a number or a list of numbers, found {ty}"));
                    *d = d.clone().label(format!("{ty}"));
                }
                Some(1)
            }
            Term::Proj(inner, n, span) => {
                if let Some(k) = self.term(inner, env) {
                    if *n as usize >= k {
                        let d = self.err("rules::bad-output-index", *span, format!("output {n} does not exist: the term has {k} output(s)"));
                        *d = d.clone().label("projection");
                    }
                }
                Some(1)
            }
            Term::Op { op, args, params, span } => self.op_term(op, args, params, *span, env, false),
        }
    }

    /// An op term; `fold`: the op is folded over its (flattened) arguments, so it must take two.
    fn op_term(&mut self, op: &Ident, args: &[Term], params: &[(Ident, Expr)], span: Span, env: &Env, fold: bool) -> Option<usize> {
        {
            {
                let mut rests = vec![];
                for (i, a) in args.iter().enumerate() {
                    if a.is_spread() {
                        self.spread(a, env);
                        rests.push((i, a.span()));
                    } else {
                        self.term(a, env);
                    }
                }
                let fold_arity = |this: &mut Self, ok: bool, text: String| {
                    if !ok {
                        let d = this.err("rules::wrong-arity", op.span, format!("`fold` needs an op of two inputs; `{}` takes {text}", op.name));
                        *d = d.clone().label("not binary");
                    }
                };
                if is_tf_name(&op.name) {
                    let sig = self.sig(&op.name);
                    if fold {
                        if let Some(sig) = &sig {
                            fold_arity(self, sig.accepts_inputs(2), sig.inputs.len().to_string());
                        }
                    } else if let Some(sig) = &sig {
                        // A spread stands for any number of arguments: only its position is checked.
                        if !self.rest_args(op, &rests, args.len(), Some(sig), None, "spread") {
                            self.tf_arity(op, sig, args.len(), span);
                        }
                    }
                    for (n, e) in params {
                        let t = self.expr(e, env);
                        if let Some(want) = sig.as_ref().and_then(|s| s.attr(&n.name).cloned()) {
                            self.fits(e, &t, &want, &format!("attribute `{}`", n.name));
                        } else if let Some(s) = &sig {
                            let d = self.err("rules::unknown-attribute", n.span, format!("TF op `{}` has no attribute `{}`", op.name, n.name));
                            *d = d.clone().label("unknown attribute").help(format!("its attributes are: {}", s.attrs.iter().map(|a| a.0.as_str()).collect::<Vec<_>>().join(", ")));
                        }
                    }
                    sig.and_then(|s| s.num_outputs())
                } else {
                    let kind = self.layer(op)?;
                    if fold {
                        fold_arity(self, kind.min_inputs <= 2 && kind.max_inputs.is_none_or(|m| m >= 2), kind.arity_text());
                    } else if !self.rest_args(op, &rests[..rests.len().min(1)], args.len(), None, Some(kind), "spread") {
                        // A layer of any number of inputs takes several spreads: `concatND(xs.., ys..)`.
                        self.layer_arity(op, kind, args.len(), span);
                    }
                    let mut seen: Vec<&str> = vec![];
                    for (n, e) in params {
                        let t = self.expr(e, env);
                        if seen.contains(&n.name.as_str()) {
                            let d = self.err("rules::duplicate-name", n.span, format!("parameter `{}` is given twice", n.name));
                            *d = d.clone().label("again");
                        }
                        seen.push(&n.name);
                        match kind.param(&n.name) {
                            Some(pt) => {
                                self.fits(e, &t, &param_ty(pt), &format!("parameter `{}`", n.name));
                                let literals: Vec<&Expr> = match (pt, e) {
                                    (ParamType::Enum(_), e) => vec![e],
                                    (ParamType::Enums(_), Expr::List(items, _)) => items.iter().collect(),
                                    _ => vec![],
                                };
                                let (ParamType::Enum(allowed) | ParamType::Enums(allowed)) = pt else { continue };
                                for e in literals {
                                    if let Expr::Lit(Lit::Str(s), sp) = e {
                                        if !allowed.contains(&s.as_str()) {
                                            let d = self.err("rules::type-mismatch", *sp, format!("`{s}` is not a valid value of `{}`", n.name));
                                            *d = d.clone().label("invalid").help(format!("expected {}", pt.describe()));
                                        }
                                    }
                                }
                            }
                            None => self.unknown_param(kind, n),
                        }
                    }
                    kind.outputs
                }
            }
        }
    }

    fn fits(&mut self, e: &Expr, got: &Ty, want: &Ty, what: &str) {
        if !got.fits(want) {
            let d = self.err("rules::type-mismatch", e.span(), format!("{what} must be {want}, found {got}"));
            *d = d.clone().label(format!("{got}"));
        }
    }

    fn root_outputs(&mut self, lhs: &Pattern) -> Option<usize> {
        match lhs {
            Pattern::Op(o) if is_tf_name(&o.op.name) => self.sig(&o.op.name).and_then(|s| s.num_outputs()),
            Pattern::Op(o) => layers::layer_kind(&o.op.name).and_then(|k| k.outputs),
            Pattern::Bind(_, p) => self.root_outputs(p),
            _ => Some(1),
        }
    }

    fn root_must_be_op(&mut self, lhs: &Pattern) {
        let ok = match lhs {
            Pattern::Op(_) | Pattern::Proj(..) => true,
            Pattern::Bind(_, p) => matches!(**p, Pattern::Op(_) | Pattern::Proj(..)),
            _ => false,
        };
        if !ok {
            let d = self.err("rules::pattern-not-op", lhs.span(), "a pattern must start with an op");
            *d = d.clone().label("matches anything").help("write the op to match, e.g. `Relu(x)`");
        }
    }

    fn rule(&mut self, r: &Rule) {
        let mut env = Env::new();
        self.root_must_be_op(&r.lhs);
        self.pattern(&r.lhs, &mut env);
        self.clauses(&r.clauses, &mut env);
        self.rhs(&r.rhs, &r.lhs, &env);
    }

    /// A right-hand side (of a rule, or a registration's `reference`): its terms, and as many
    /// outputs as the pattern's root op has.
    fn rhs(&mut self, rhs: &Rhs, lhs: &Pattern, env: &Env) {
        match rhs {
            Rhs::Term(t) => {
                let got = self.term(t, env);
                let want = self.root_outputs(lhs);
                if let (Some(g), Some(w)) = (got, want) {
                    if g != w && !matches!(t, Term::Var(_)) {
                        let d = self.err("rules::output-count", t.span(), format!("the pattern has {w} output(s) but this term has {g}"));
                        *d = d.clone().label(format!("{g} output(s)")).help("map each output with `=> (term0, term1, ...)`");
                    }
                }
            }
            Rhs::Outputs(ts, span) => {
                for t in ts {
                    self.spread(t, env);
                }
                if let (Some(w), false) = (self.root_outputs(lhs), ts.iter().any(Term::is_spread)) {
                    if w != ts.len() {
                        let d = self.err("rules::output-count", *span, format!("the pattern has {w} output(s) but {} term(s) are given", ts.len()));
                        *d = d.clone().label(format!("{} term(s)", ts.len()));
                    }
                }
            }
        }
    }

    /// The names a `reference` sees: what the custom layer holds in the model, that is its
    /// inputs (`input_order`, tensors) and its parameters (values of their declared types).
    /// Pattern variables and `let`s are gone at run time, so they are not in scope.
    fn reference_env(&self, c: &Registration) -> Env {
        let mut env = Env::new();
        if let Some(FieldValue::Expr(Expr::List(items, _))) = c.field("input_order").map(|f| &f.value) {
            for it in items {
                if let Expr::Var(id) = it {
                    env.insert(id.name.clone(), Binding { ty: Ty::Node, span: id.span });
                }
            }
        }
        if let Some(FieldValue::Params(ps, _)) = c.field("parameters").map(|f| &f.value) {
            for p in ps {
                if let Some((_, ty)) = PARAM_TYPES.iter().find(|(n, _)| *n == p.ty.name) {
                    env.insert(p.name.name.clone(), Binding { ty: ty.clone(), span: p.name.span });
                }
            }
        }
        env
    }

    // ---------------------------------------------------------------- registrations

    fn custom(&mut self, c: &Registration) {
        let mut env = Env::new();
        self.root_must_be_op(&c.lhs);
        self.pattern(&c.lhs, &mut env);
        self.clauses(&c.clauses, &mut env);
        for req in REQUIRED_FIELDS {
            if c.field(req).is_none() {
                let d = self.err("rules::missing-field", c.name.span, format!("registration `{}` has no `{req}`", c.name.name));
                *d = d.clone().label(format!("missing `{req}`")).help(format!(
                    "a custom-layer binding needs {}",
                    REQUIRED_FIELDS.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let mut seen: Vec<&str> = vec![];
        for f in &c.fields {
            if seen.contains(&f.name.name.as_str()) {
                let d = self.err("rules::duplicate-name", f.name.span, format!("field `{}` is given twice", f.name.name));
                *d = d.clone().label("again");
            }
            seen.push(&f.name.name);
            match (f.name.name.as_str(), &f.value) {
                ("class_name" | "description", FieldValue::Expr(e)) => {
                    let t = self.expr(e, &env);
                    self.fits(e, &t, &Ty::Str, &format!("`{}`", f.name.name));
                }
                ("input_order", FieldValue::Expr(e)) => self.input_order(c, e, &env),
                ("outputs", FieldValue::Expr(e)) => {
                    let t = self.expr(e, &env);
                    self.fits(e, &t, &Ty::list(Ty::DType), "`outputs`");
                    if let (Expr::List(items, span), Some(w)) = (e, self.root_outputs(&c.lhs)) {
                        if items.len() != w {
                            let d = self.err("rules::output-count", *span, format!("the op has {w} output(s) but {} type(s) are given", items.len()));
                            *d = d.clone().label(format!("{} type(s)", items.len()));
                        }
                    }
                }
                ("parameters", FieldValue::Params(ps, _)) => {
                    let mut names: Vec<&str> = vec![];
                    for p in ps {
                        if names.contains(&p.name.name.as_str()) {
                            let d = self.err("rules::duplicate-name", p.name.span, format!("parameter `{}` is given twice", p.name.name));
                            *d = d.clone().label("again");
                        }
                        names.push(&p.name.name);
                        let t = self.expr(&p.value, &env);
                        match PARAM_TYPES.iter().find(|(n, _)| *n == p.ty.name) {
                            Some((_, want)) => self.fits(&p.value, &t, want, &format!("parameter `{}`", p.name.name)),
                            None => {
                                let d = self.err("rules::type-mismatch", p.ty.span, format!("`{}` is not a custom-layer parameter type", p.ty.name));
                                *d = d.clone().label("unknown type").help("CustomLayerParamValue holds int, double, bool or string");
                            }
                        }
                    }
                }
                ("reference", FieldValue::Reference(rhs)) => {
                    let renv = self.reference_env(c);
                    self.rhs(rhs, &c.lhs, &renv);
                }
                ("parameters", FieldValue::Expr(e)) => {
                    let d = self.err("rules::syntax", e.span(), "`parameters` is a block: `parameters { name: type = value, ... }`");
                    *d = d.clone().label("expected `{`");
                }
                (n, FieldValue::Params(_, span)) if REQUIRED_FIELDS.contains(&n) || OPTIONAL_FIELDS.contains(&n) => {
                    let d = self.err("rules::syntax", *span, format!("`{n}` takes `= value`, not a block"));
                    *d = d.clone().label("block");
                }
                (n, _) => {
                    let d = self.err("rules::unknown-field", f.name.span, format!("registrations have no field `{n}`"));
                    *d = d.clone().label("unknown field").help(format!("fields: {}, {}", REQUIRED_FIELDS.join(", "), OPTIONAL_FIELDS.join(", ")));
                }
            }
        }
    }

    fn input_order(&mut self, c: &Registration, e: &Expr, env: &Env) {
        let Expr::List(items, _) = e else {
            let d = self.err("rules::type-mismatch", e.span(), "`input_order` must be a list of input names, e.g. [x]");
            *d = d.clone().label("not a list");
            return;
        };
        let root_op = match &c.lhs {
            Pattern::Op(o) => Some(o),
            Pattern::Bind(_, p) => match &**p {
                Pattern::Op(o) => Some(o),
                _ => None,
            },
            _ => None,
        };
        for it in items {
            let Expr::Var(id) = it else {
                let d = self.err("rules::type-mismatch", it.span(), "`input_order` lists input names");
                *d = d.clone().label("not a name");
                continue;
            };
            if env.get(&id.name).is_some_and(|b| b.ty == Ty::Node || b.ty == Ty::list(Ty::Node)) {
                continue;
            }
            // An OpDef input name of the root op, whose pattern argument is a variable.
            if let Some(o) = root_op {
                if let Some(sig) = self.sig(&o.op.name) {
                    if let Some(pos) = sig.inputs.iter().position(|n| *n == id.name) {
                        if matches!(o.args.get(pos), Some(Pattern::Var(_) | Pattern::Bind(..))) {
                            continue;
                        }
                    }
                }
            }
            let bound: Vec<_> = env.iter().filter(|(_, b)| b.ty == Ty::Node).map(|(n, _)| n.as_str()).collect();
            let op = root_op.map_or("the pattern".to_string(), |o| format!("`{}`", o.op.name));
            let mut help = format!("inputs bound by the pattern: {}", bound.join(", "));
            if let Some(sig) = root_op.and_then(|o| self.sig(&o.op.name)) {
                help.push_str(&format!("; {}'s inputs are named {}", sig.name, sig.inputs.join(", ")));
            }
            let d = self.err("rules::unknown-input", id.span, format!("{op} has no input `{}`", id.name));
            *d = d.clone().label("not an input").help(help);
        }
    }

    // ---------------------------------------------------------------- output types

    fn infer(&mut self, i: &Infer) {
        let mut env = Env::new();
        if !is_tf_name(&i.op.name) {
            let d = self.err("rules::unknown-tf-op", i.op.span, format!("`infer` declares a TF op's outputs; `{}` is not a TF op name", i.op.name));
            *d = d.clone().label("lowercase");
        }
        let sig = self.sig(&i.op.name);
        if let Some(sig) = &sig {
            self.tf_arity(&i.op, sig, i.inputs.len(), i.span);
        }
        for n in &i.inputs {
            self.bind(&mut env, n, Ty::Node);
        }
        for ap in &i.attrs {
            let ty = sig.as_ref().and_then(|s| s.attr(&ap.name.name).cloned()).unwrap_or(Ty::Any);
            self.attr_pat(&ap.value, &ty, &mut env);
        }
        self.clauses(&i.clauses, &mut env);
        for (d, s) in &i.outputs {
            let td = self.expr(d, &env);
            self.fits(d, &td, &Ty::DType, "an output dtype");
            let ts = self.expr(s, &env);
            self.fits(s, &ts, &Ty::list(Ty::Int), "an output shape");
        }
        if let Some(w) = sig.and_then(|s| s.num_outputs()) {
            if w != i.outputs.len() {
                let d = self.err("rules::output-count", i.span, format!("`{}` has {w} output(s) but {} are declared", i.op.name, i.outputs.len()));
                *d = d.clone().label("output declarations");
            }
        }
    }
}

fn mentions_variables(e: &Expr) -> bool {
    match e {
        Expr::Lit(..) => false,
        Expr::Var(id) => DType::from_name(&id.name).is_none(),
        Expr::Call(_, args, _) | Expr::List(args, _) => args.iter().any(mentions_variables),
        Expr::Comp { .. } => true,
        Expr::Unary(_, a, _) => mentions_variables(a),
        Expr::Binary(_, a, b, _) => mentions_variables(a) || mentions_variables(b),
        Expr::If { cond, then, else_, .. } => [cond, then, else_].iter().any(|e| mentions_variables(e)),
    }
}

pub fn lit_ty(l: &Lit) -> Ty {
    match l {
        Lit::Int(_) => Ty::Int,
        Lit::Float(_) => Ty::Float,
        Lit::Bool(_) => Ty::Bool,
        Lit::Str(_) => Ty::Str,
    }
}

/// The expression type a layer parameter accepts.
pub fn param_ty(p: ParamType) -> Ty {
    match p {
        ParamType::Int | ParamType::UInt => Ty::Int,
        ParamType::Float => Ty::Float,
        ParamType::Bool => Ty::Bool,
        ParamType::Str | ParamType::Enum(_) => Ty::Str,
        ParamType::Enums(_) => Ty::list(Ty::Str),
        ParamType::Ints | ParamType::UInts => Ty::list(Ty::Int),
        ParamType::Floats => Ty::list(Ty::Float),
        ParamType::Bools => Ty::list(Ty::Bool),
        ParamType::Weights => Ty::Tensor,
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
