//! Syntax tree of a rule file, every node carrying the byte span it came from.
//!
//! `Span` compares equal to every other span, so two trees are equal when they say the same
//! thing, wherever it was written: that is what the print/parse round-trip test relies on.
//! `Display` prints a tree back as rule source (the pretty printer).

use std::fmt::{self, Display, Formatter, Write};

/// Byte range in one source file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}

/// A name with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed `.rules` file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Rule(Rule),
    Custom(Registration),
    Infer(Infer),
}

impl Item {
    pub fn name(&self) -> &Ident {
        match self {
            Item::Rule(r) => &r.name,
            Item::Custom(c) => &c.name,
            Item::Infer(i) => &i.op,
        }
    }
    pub fn span(&self) -> Span {
        match self {
            Item::Rule(r) => r.span,
            Item::Custom(c) => c.span,
            Item::Infer(i) => i.span,
        }
    }
}

/// `rule NAME: PATTERN (where ... | let ...)* => RHS`
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: Ident,
    pub lhs: Pattern,
    pub clauses: Vec<Clause>,
    pub rhs: Rhs,
    pub span: Span,
}

/// Conditions and local definitions between a pattern and its right-hand side, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// `where e1, e2`: every guard must evaluate to `true`.
    Where(Vec<Expr>),
    /// `let name = e`
    Let(Ident, Expr),
}

/// What a matched op becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// The whole matched node (all its outputs) becomes this term.
    Term(Term),
    /// Output `i` of the matched op becomes term `i`.
    Outputs(Vec<Term>, Span),
}

/// Left-hand side shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Binds the e-class; a second occurrence must be the same e-class.
    Var(Ident),
    Wildcard(Span),
    /// `name @ pattern` binds the e-class and matches the pattern on it.
    Bind(Ident, Box<Pattern>),
    Op(OpPattern),
    /// `pattern.N`: output N of a multi-output op.
    Proj(Box<Pattern>, u32, Span),
    /// `xs..` as an op argument: binds the list of inputs at the op's variadic operand
    /// (`values` of `ConcatV2`), as many as there are (possibly none).
    Rest(Ident, Span),
}

impl Pattern {
    /// Every op (TF op or layer) the pattern matches, outermost first.
    pub fn ops(&self) -> Vec<&str> {
        fn go<'a>(p: &'a Pattern, out: &mut Vec<&'a str>) {
            match p {
                Pattern::Op(o) => {
                    out.push(&o.op.name);
                    o.args.iter().for_each(|a| go(a, out));
                }
                Pattern::Bind(_, p) | Pattern::Proj(p, _, _) => go(p, out),
                Pattern::Var(_) | Pattern::Wildcard(_) | Pattern::Rest(..) => {}
            }
        }
        let mut out = vec![];
        go(self, &mut out);
        out
    }

    pub fn span(&self) -> Span {
        match self {
            Pattern::Var(i) => i.span,
            Pattern::Wildcard(s) => *s,
            Pattern::Bind(i, p) => i.span.to(p.span()),
            Pattern::Op(o) => o.span,
            Pattern::Proj(_, _, s) | Pattern::Rest(_, s) => *s,
        }
    }
}

/// `Op(args) { attr = pat, ... }`; attributes not listed are not constrained.
#[derive(Debug, Clone, PartialEq)]
pub struct OpPattern {
    pub op: Ident,
    pub args: Vec<Pattern>,
    pub attrs: Vec<AttrPattern>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttrPattern {
    pub name: Ident,
    pub value: AttrPat,
}

/// Patterns over attribute values.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrPat {
    /// Binds the attribute value (or, inside a list, one element).
    Var(Ident),
    Wildcard(Span),
    /// Must be equal to this literal.
    Lit(Lit, Span),
    /// A list of exactly this length whose elements match.
    List(Vec<AttrPat>, Span),
}

impl AttrPat {
    pub fn span(&self) -> Span {
        match self {
            AttrPat::Var(i) => i.span,
            AttrPat::Wildcard(s) | AttrPat::Lit(_, s) | AttrPat::List(_, s) => *s,
        }
    }
}

/// Right-hand side terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Var(Ident),
    /// `kind(args) { param = expr }`: an NN layer (lowercase) or a TF op (capitalised).
    Op {
        op: Ident,
        args: Vec<Term>,
        params: Vec<(Ident, Expr)>,
        span: Span,
    },
    /// `const(expr)`: a constant tensor node computed from an expression.
    Const(Expr, Span),
    /// `term.N`
    Proj(Box<Term>, u32, Span),
    /// `xs..` as an argument (or output): every tensor of the list `xs`, in order.
    Spread(Ident, Span),
    /// `[term for x in xs]..`: the term built once per element `x` of the list `xs`, spread.
    Map { body: Box<Term>, var: Ident, list: Ident, span: Span },
    /// `fold kind(args) { params }`: a binary layer (or TF op) folded left over its arguments,
    /// `kind(kind(a0, a1), a2)...`; one argument is that argument itself.
    Fold(Box<Term>, Span),
}

impl Term {
    pub fn span(&self) -> Span {
        match self {
            Term::Var(i) => i.span,
            Term::Op { span, .. }
            | Term::Const(_, span)
            | Term::Proj(_, _, span)
            | Term::Spread(_, span)
            | Term::Map { span, .. }
            | Term::Fold(_, span) => *span,
        }
    }

    /// Does this term stand for a list of tensors (`xs..`, `[t for x in xs]..`)?
    pub fn is_spread(&self) -> bool {
        matches!(self, Term::Spread(..) | Term::Map { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 5,
        }
    }
}

/// Attribute expressions (guards, `let`, layer parameters).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Lit, Span),
    /// A pattern variable, `let` name or a dtype name such as `float32`.
    Var(Ident),
    Call(Ident, Vec<Expr>, Span),
    List(Vec<Expr>, Span),
    Unary(UnOp, Box<Expr>, Span),
    Binary(BinOp, Box<Expr>, Box<Expr>, Span),
    /// `[body for var in list]`: `body` evaluated with `var` bound to each element of `list`.
    Comp { body: Box<Expr>, var: Ident, list: Box<Expr>, span: Span },
    /// `then if cond else else_` (Python's conditional): only the chosen branch is evaluated,
    /// so the other may be one that would fail (`dim(x, 1) if known_dim(x, 1) else 0`).
    If { cond: Box<Expr>, then: Box<Expr>, else_: Box<Expr>, span: Span },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Var(i) => i.span,
            Expr::Lit(_, s)
            | Expr::Call(_, _, s)
            | Expr::List(_, s)
            | Expr::Unary(_, _, s)
            | Expr::Binary(_, _, _, s)
            | Expr::Comp { span: s, .. }
            | Expr::If { span: s, .. } => *s,
        }
    }
}

/// `custom NAME [override]: PATTERN clauses fields`: a coremltools-style custom-layer binding.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub name: Ident,
    pub override_: Option<Span>,
    pub lhs: Pattern,
    pub clauses: Vec<Clause>,
    pub fields: Vec<Field>,
    pub span: Span,
}

impl Registration {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: Ident,
    pub value: FieldValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Expr(Expr),
    /// `parameters { name: type = expr, ... }`
    Params(Vec<Param>, Span),
    /// `reference = TERM` (or `= (t0, t1)`): what the custom layer computes, written as a
    /// rule's right-hand side over the `input_order` names and the parameters; `mlrewrite
    /// run` executes it (`crate::reference`).
    Reference(Rhs),
}

/// One `CustomLayerParamValue`: `name: int|double|bool|string = expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: Ident,
    pub value: Expr,
}

/// `infer Op(inputs) {attrs} clauses -> tensor(dtype, shape), ...`: output types of an op
/// that Rust has no shape function for.
#[derive(Debug, Clone, PartialEq)]
pub struct Infer {
    pub op: Ident,
    pub inputs: Vec<Ident>,
    pub attrs: Vec<AttrPattern>,
    pub clauses: Vec<Clause>,
    pub outputs: Vec<(Expr, Expr)>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// Pretty printer

fn comma<T>(f: &mut Formatter<'_>, items: &[T], mut each: impl FnMut(&mut Formatter<'_>, &T) -> fmt::Result) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        each(f, it)?;
    }
    Ok(())
}

impl Display for Lit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Int(i) => write!(f, "{i}"),
            Lit::Float(x) => {
                let s = format!("{x:?}");
                if s.contains(['.', 'e', 'E']) || !x.is_finite() {
                    f.write_str(&s)
                } else {
                    write!(f, "{s}.0")
                }
            }
            Lit::Bool(b) => write!(f, "{b}"),
            Lit::Str(s) => {
                f.write_char('"')?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\t' => f.write_str("\\t")?,
                        c => f.write_char(c)?,
                    }
                }
                f.write_char('"')
            }
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        fn go(e: &Expr, f: &mut Formatter<'_>, ctx: u8) -> fmt::Result {
            match e {
                Expr::Lit(l, _) => write!(f, "{l}"),
                Expr::Var(i) => f.write_str(&i.name),
                Expr::Call(n, args, _) => {
                    write!(f, "{}(", n.name)?;
                    comma(f, args, |f, a| go(a, f, 0))?;
                    f.write_str(")")
                }
                Expr::List(items, _) => {
                    f.write_str("[")?;
                    comma(f, items, |f, a| go(a, f, 0))?;
                    f.write_str("]")
                }
                Expr::Comp { body, var, list, .. } => {
                    f.write_str("[")?;
                    go(body, f, 0)?;
                    write!(f, " for {} in ", var.name)?;
                    go(list, f, 0)?;
                    f.write_str("]")
                }
                Expr::If { cond, then, else_, .. } => {
                    // The loosest form: parenthesised inside any operator; the else branch may
                    // itself be a conditional (right-associative).
                    let needs = ctx > 0;
                    if needs {
                        f.write_str("(")?;
                    }
                    go(then, f, 1)?;
                    f.write_str(" if ")?;
                    go(cond, f, 1)?;
                    f.write_str(" else ")?;
                    go(else_, f, 0)?;
                    if needs {
                        f.write_str(")")?;
                    }
                    Ok(())
                }
                Expr::Unary(op, a, _) => {
                    // Unary binds tighter than every binary operator but `not` is printed with
                    // parentheses around a binary operand so that it re-parses identically.
                    let needs = ctx > 5;
                    if needs {
                        f.write_str("(")?;
                    }
                    match op {
                        UnOp::Neg => f.write_str("-")?,
                        UnOp::Not => f.write_str("not ")?,
                    }
                    go(a, f, 6)?;
                    if needs {
                        f.write_str(")")?;
                    }
                    Ok(())
                }
                Expr::Binary(op, a, b, _) => {
                    let p = op.precedence();
                    let needs = p < ctx;
                    if needs {
                        f.write_str("(")?;
                    }
                    // Left-associative: the left operand may sit at the same level, the right
                    // must bind tighter. Comparisons do not chain, so both sides bind tighter.
                    let left_ctx = if p == 3 { p + 1 } else { p };
                    go(a, f, left_ctx)?;
                    write!(f, " {} ", op.symbol())?;
                    go(b, f, p + 1)?;
                    if needs {
                        f.write_str(")")?;
                    }
                    Ok(())
                }
            }
        }
        go(self, f, 0)
    }
}

impl Display for AttrPat {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            AttrPat::Var(i) => f.write_str(&i.name),
            AttrPat::Wildcard(_) => f.write_str("_"),
            AttrPat::Lit(l, _) => write!(f, "{l}"),
            AttrPat::List(items, _) => {
                f.write_str("[")?;
                comma(f, items, |f, a| write!(f, "{a}"))?;
                f.write_str("]")
            }
        }
    }
}

fn attr_pats(f: &mut Formatter<'_>, attrs: &[AttrPattern]) -> fmt::Result {
    if !attrs.is_empty() {
        f.write_str(" { ")?;
        comma(f, attrs, |f, a| write!(f, "{} = {}", a.name.name, a.value))?;
        f.write_str(" }")?;
    }
    Ok(())
}

impl Display for Pattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Var(i) => f.write_str(&i.name),
            Pattern::Wildcard(_) => f.write_str("_"),
            Pattern::Bind(i, p) => write!(f, "{} @ {}", i.name, p),
            Pattern::Op(o) => {
                write!(f, "{}(", o.op.name)?;
                comma(f, &o.args, |f, a| write!(f, "{a}"))?;
                f.write_str(")")?;
                attr_pats(f, &o.attrs)
            }
            Pattern::Proj(p, n, _) => match **p {
                Pattern::Bind(..) => write!(f, "({p}).{n}"),
                _ => write!(f, "{p}.{n}"),
            },
            Pattern::Rest(i, _) => write!(f, "{}..", i.name),
        }
    }
}

impl Display for Term {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Term::Var(i) => f.write_str(&i.name),
            Term::Op { op, args, params, .. } => {
                write!(f, "{}(", op.name)?;
                comma(f, args, |f, a| write!(f, "{a}"))?;
                f.write_str(")")?;
                if !params.is_empty() {
                    f.write_str(" { ")?;
                    comma(f, params, |f, (n, e)| write!(f, "{} = {}", n.name, e))?;
                    f.write_str(" }")?;
                }
                Ok(())
            }
            Term::Const(e, _) => write!(f, "const({e})"),
            Term::Proj(t, n, _) => write!(f, "{t}.{n}"),
            Term::Spread(i, _) => write!(f, "{}..", i.name),
            Term::Map { body, var, list, .. } => write!(f, "[{body} for {} in {}]..", var.name, list.name),
            Term::Fold(t, _) => write!(f, "fold {t}"),
        }
    }
}

fn clauses(f: &mut Formatter<'_>, cs: &[Clause]) -> fmt::Result {
    for c in cs {
        match c {
            Clause::Where(gs) => {
                f.write_str("    where ")?;
                comma(f, gs, |f, g| write!(f, "{g}"))?;
                f.write_str("\n")?;
            }
            Clause::Let(n, e) => writeln!(f, "    let {} = {}", n.name, e)?,
        }
    }
    Ok(())
}

impl Display for Item {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Item::Rule(r) => {
                writeln!(f, "rule {}:", r.name.name)?;
                writeln!(f, "    {}", r.lhs)?;
                clauses(f, &r.clauses)?;
                match &r.rhs {
                    Rhs::Term(t) => writeln!(f, "    => {t}"),
                    Rhs::Outputs(ts, _) => {
                        f.write_str("    => (")?;
                        comma(f, ts, |f, t| write!(f, "{t}"))?;
                        f.write_str(")\n")
                    }
                }
            }
            Item::Custom(c) => {
                write!(f, "custom {}", c.name.name)?;
                if c.override_.is_some() {
                    f.write_str(" override")?;
                }
                writeln!(f, ":")?;
                writeln!(f, "    {}", c.lhs)?;
                clauses(f, &c.clauses)?;
                for field in &c.fields {
                    match &field.value {
                        FieldValue::Expr(e) => writeln!(f, "    {} = {}", field.name.name, e)?,
                        FieldValue::Reference(Rhs::Term(t)) => writeln!(f, "    {} = {t}", field.name.name)?,
                        FieldValue::Reference(Rhs::Outputs(ts, _)) => {
                            write!(f, "    {} = (", field.name.name)?;
                            comma(f, ts, |f, t| write!(f, "{t}"))?;
                            f.write_str(")\n")?;
                        }
                        FieldValue::Params(ps, _) => {
                            writeln!(f, "    {} {{", field.name.name)?;
                            for p in ps {
                                writeln!(f, "        {}: {} = {},", p.name.name, p.ty.name, p.value)?;
                            }
                            writeln!(f, "    }}")?;
                        }
                    }
                }
                Ok(())
            }
            Item::Infer(i) => {
                write!(f, "infer {}(", i.op.name)?;
                comma(f, &i.inputs, |f, n| f.write_str(&n.name))?;
                f.write_str(")")?;
                attr_pats(f, &i.attrs)?;
                f.write_str("\n")?;
                clauses(f, &i.clauses)?;
                f.write_str("    -> ")?;
                comma(f, &i.outputs, |f, (d, s)| write!(f, "tensor({d}, {s})"))?;
                f.write_str("\n")
            }
        }
    }
}

impl Display for File {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}
