//! nom parser for `.rules` files, with recovery at item granularity: a syntax error inside one
//! rule is recorded and parsing resumes at the next line that starts with `rule`, `custom` or
//! `infer`, so one run reports every broken item of a file.
//!
//! Primitive token parsers label what they expected; `PError::or` keeps the error that got
//! furthest and merges the labels of errors at the same offset ("expected `)` or `,`").
//! `cut` after a committing token (`(`, `=`, a keyword) stops backtracking so the error points
//! at the real culprit instead of the start of the enclosing list.

use super::ast::*;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1, multispace1, not_line_ending, one_of};
use nom::combinator::{cut, map, not, opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::multi::many0;
use nom::sequence::{pair, preceded};
use nom::{IResult, Parser};
use nom_locate::LocatedSpan;

pub type In<'a> = LocatedSpan<&'a str>;
type PResult<'a, T> = IResult<In<'a>, T, PError>;

/// A syntax error: where, and what would have been accepted there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PError {
    pub offset: usize,
    pub expected: Vec<&'static str>,
    /// Set instead of `expected` when the text was recognised but is invalid (e.g. an integer
    /// literal too large).
    pub message: Option<String>,
}

impl<'a> ParseError<In<'a>> for PError {
    fn from_error_kind(input: In<'a>, _kind: ErrorKind) -> Self {
        PError { offset: input.location_offset(), expected: vec![], message: None }
    }
    fn append(_input: In<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }
    fn or(self, other: Self) -> Self {
        use std::cmp::Ordering::*;
        match self.offset.cmp(&other.offset) {
            Greater => self,
            Less => other,
            Equal => {
                let mut e = self;
                if e.message.is_none() {
                    e.message = other.message;
                }
                for x in other.expected {
                    if !e.expected.contains(&x) {
                        e.expected.push(x);
                    }
                }
                e
            }
        }
    }
}

impl PError {
    fn at(i: &In, label: &'static str) -> PError {
        PError { offset: i.location_offset(), expected: vec![label], message: None }
    }

    /// Human text: "expected `)` or `,`, found `=`".
    pub fn describe(&self, src: &str) -> String {
        let found = found_token(src, self.offset);
        if let Some(m) = &self.message {
            return m.clone();
        }
        let mut exp: Vec<&str> = self.expected.clone();
        exp.sort();
        exp.dedup();
        let list = match exp.len() {
            0 => "something else".to_string(),
            1 => exp[0].to_string(),
            n => format!("{} or {}", exp[..n - 1].join(", "), exp[n - 1]),
        };
        format!("expected {list}, found {found}")
    }
}

/// The token at `offset`, for error messages.
pub fn found_token(src: &str, offset: usize) -> String {
    let rest = src.get(offset..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return "end of file".into();
    };
    if c.is_alphanumeric() || c == '_' {
        let w: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect();
        format!("`{w}`")
    } else if c == '"' {
        "a string".into()
    } else if c == '\n' {
        "end of line".into()
    } else {
        let two: String = rest.chars().take(2).collect();
        if ["=>", "->", "==", "!=", "<=", ">="].contains(&two.as_str()) {
            format!("`{two}`")
        } else {
            format!("`{c}`")
        }
    }
}

/// Words that cannot be variable, op or function names.
pub const KEYWORDS: &[&str] = &["rule", "custom", "infer", "where", "let", "and", "or", "not", "true", "false", "for", "in", "if", "else"];
/// Words that start a top-level item (recovery points).
const ITEM_KEYWORDS: &[&str] = &["rule", "custom", "infer"];

fn span_of(start: &In, end: &In) -> Span {
    Span::new(start.location_offset(), end.location_offset())
}

/// Whitespace and `#` comments.
fn ws(i: In) -> PResult<()> {
    map(many0(alt((multispace1, preceded(char('#'), not_line_ending)))), |_| ()).parse(i)
}

/// A punctuation token after optional whitespace.
fn sym<'a>(s: &'static str, label: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, In<'a>> {
    move |i: In<'a>| {
        let (i, _) = ws(i)?;
        let r: PResult<In> = tag(s).parse(i);
        r.map_err(|_| nom::Err::Error(PError::at(&i, label)))
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A keyword (not followed by an identifier character).
fn kw<'a>(word: &'static str, label: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, In<'a>> {
    move |i: In<'a>| {
        let (i, _) = ws(i)?;
        let r: PResult<In> = nom::sequence::terminated(tag(word), not(take_while1(is_ident_char))).parse(i);
        r.map_err(|_| nom::Err::Error(PError::at(&i, label)))
    }
}

/// An identifier that is not a keyword.
fn ident(i: In) -> PResult<Ident> {
    let (i, _) = ws(i)?;
    let start = i;
    let r: PResult<In> = recognize(pair(
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(is_ident_char),
    ))
    .parse(i);
    match r {
        Ok((rest, name)) if !KEYWORDS.contains(name.fragment()) => {
            Ok((rest, Ident { name: name.fragment().to_string(), span: span_of(&start, &rest) }))
        }
        _ => Err(nom::Err::Error(PError::at(&start, "a name"))),
    }
}

fn number(i: In) -> PResult<(Lit, Span)> {
    let (i, _) = ws(i)?;
    let start = i;
    let r: PResult<In> = recognize((
        digit1,
        opt(pair(char('.'), digit1)),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(i);
    let (rest, text) = r.map_err(|_| nom::Err::Error(PError::at(&start, "a number")))?;
    let t = *text.fragment();
    let span = span_of(&start, &rest);
    let lit = if t.contains(['.', 'e', 'E']) {
        match t.parse::<f64>() {
            Ok(f) => Lit::Float(f),
            Err(_) => return Err(nom::Err::Failure(bad(&start, format!("invalid number `{t}`")))),
        }
    } else {
        match t.parse::<i64>() {
            Ok(n) => Lit::Int(n),
            Err(_) => {
                return Err(nom::Err::Failure(bad(&start, format!("integer literal `{t}` does not fit in 64 bits"))))
            }
        }
    };
    Ok((rest, (lit, span)))
}

/// How deeply expressions, patterns, terms and attribute lists may nest. The parser (and every
/// pass over the tree after it) recurses once per level, so without a bound 5,000 parentheses
/// overflow the stack; real rules nest a few levels.
pub const MAX_NESTING: usize = 100;

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One level of nesting, released when dropped (also on every error return).
struct Nest;

impl Drop for Nest {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

fn nest(i: &In) -> Result<Nest, nom::Err<PError>> {
    NESTING.with(|n| {
        if n.get() >= MAX_NESTING {
            return Err(nom::Err::Failure(bad(i, format!("nesting deeper than {MAX_NESTING} levels"))));
        }
        n.set(n.get() + 1);
        Ok(Nest)
    })
}

fn bad(i: &In, message: String) -> PError {
    PError { offset: i.location_offset(), expected: vec![], message: Some(message) }
}

fn string_lit(i: In) -> PResult<(Lit, Span)> {
    let (i, _) = ws(i)?;
    let start = i;
    let (mut rest, _) = char('"').parse(i).map_err(|_: nom::Err<PError>| nom::Err::Error(PError::at(&start, "a string")))?;
    let mut out = String::new();
    loop {
        let frag = *rest.fragment();
        let mut chars = frag.char_indices();
        let Some((_, c)) = chars.next() else {
            return Err(nom::Err::Failure(bad(&start, "string is not closed before end of file".into())));
        };
        let (len, push) = match c {
            '"' => {
                let (r, _) = take_n(rest, 1);
                return Ok((r, (Lit::Str(out), span_of(&start, &r))));
            }
            '\n' => return Err(nom::Err::Failure(bad(&start, "string is not closed on its line".into()))),
            '\\' => match chars.next() {
                Some((_, 'n')) => (2, '\n'),
                Some((_, 't')) => (2, '\t'),
                Some((_, '"')) => (2, '"'),
                Some((_, '\\')) => (2, '\\'),
                _ => return Err(nom::Err::Failure(bad(&rest, "unknown escape in string (use \\n \\t \\\" \\\\)".into()))),
            },
            c => (c.len_utf8(), c),
        };
        out.push(push);
        rest = take_n(rest, len).0;
    }
}

/// Splits off the first `n` bytes (clamped to the input and to a char boundary).
fn take_n(i: In, n: usize) -> (In, In) {
    use nom::Input;
    let frag = *i.fragment();
    let mut n = n.min(frag.len());
    while n < frag.len() && !frag.is_char_boundary(n) {
        n += 1;
    }
    i.take_split(n)
}

fn literal(i: In) -> PResult<(Lit, Span)> {
    alt((
        number,
        string_lit,
        map(kw("true", "`true`"), |t| (Lit::Bool(true), Span::new(t.location_offset(), t.location_offset() + 4))),
        map(kw("false", "`false`"), |t| (Lit::Bool(false), Span::new(t.location_offset(), t.location_offset() + 5))),
    ))
    .parse(i)
}

// ---------------------------------------------------------------------------------------------
// Expressions

/// An attribute expression.
pub fn expr(i: In) -> PResult<Expr> {
    let (i, then) = binary(i, 1)?;
    let Ok((rest, _)) = kw("if", "`if`")(i) else { return Ok((i, then)) };
    let (rest, cond) = cut(|i| binary(i, 1)).parse(rest)?;
    let (rest, _) = cut(kw("else", "`else`")).parse(rest)?;
    let (rest, else_) = cut(expr).parse(rest)?;
    let span = then.span().to(else_.span());
    Ok((rest, Expr::If { cond: Box::new(cond), then: Box::new(then), else_: Box::new(else_), span }))
}

fn binop(i: In) -> PResult<BinOp> {
    alt((
        map(sym("==", "`==`"), |_| BinOp::Eq),
        map(sym("!=", "`!=`"), |_| BinOp::Ne),
        map(sym("<=", "`<=`"), |_| BinOp::Le),
        map(sym(">=", "`>=`"), |_| BinOp::Ge),
        map(sym("<", "`<`"), |_| BinOp::Lt),
        map(sym(">", "`>`"), |_| BinOp::Gt),
        map(sym("+", "`+`"), |_| BinOp::Add),
        map(nom::sequence::terminated(sym("-", "`-`"), not(char('>'))), |_| BinOp::Sub),
        map(sym("*", "`*`"), |_| BinOp::Mul),
        map(sym("/", "`/`"), |_| BinOp::Div),
        map(sym("%", "`%`"), |_| BinOp::Rem),
        map(kw("and", "`and`"), |_| BinOp::And),
        map(kw("or", "`or`"), |_| BinOp::Or),
    ))
    .parse(i)
}

fn binary(i: In, min_prec: u8) -> PResult<Expr> {
    let (mut i, mut lhs) = unary(i)?;
    loop {
        let Ok((after, op)) = binop(i) else { break };
        let p = op.precedence();
        if p < min_prec {
            break;
        }
        let (rest, rhs) = cut(|i| binary(i, p + 1)).parse(after)?;
        let span = lhs.span().to(rhs.span());
        lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs), span);
        i = rest;
        // Comparisons do not chain: `a < b < c` is a syntax error, not `(a < b) < c`.
        if p == 3 {
            if let Ok((_, op2)) = binop(i) {
                if op2.precedence() == 3 {
                    let (j, _) = ws(i)?;
                    return Err(nom::Err::Failure(bad(&j, "comparisons do not chain; combine them with `and`".into())));
                }
            }
        }
    }
    Ok((i, lhs))
}

fn unary(i: In) -> PResult<Expr> {
    let (i, _) = ws(i)?;
    let _level = nest(&i)?;
    let start = i;
    if let Ok((rest, _)) = nom::sequence::terminated(sym("-", "`-`"), not(char('>'))).parse(i) {
        let (rest, e) = cut(unary).parse(rest)?;
        let span = span_of(&start, &rest);
        return Ok((rest, match e {
            Expr::Lit(Lit::Int(n), _) => Expr::Lit(Lit::Int(n.wrapping_neg()), span),
            Expr::Lit(Lit::Float(f), _) => Expr::Lit(Lit::Float(-f), span),
            e => Expr::Unary(UnOp::Neg, Box::new(e), span),
        }));
    }
    if let Ok((rest, _)) = kw("not", "`not`")(i) {
        let (rest, e) = cut(unary).parse(rest)?;
        return Ok((rest, Expr::Unary(UnOp::Not, Box::new(e), span_of(&start, &rest))));
    }
    primary(i)
}

fn primary(i: In) -> PResult<Expr> {
    let (i, _) = ws(i)?;
    let start = i;
    if let Ok((rest, (lit, span))) = literal(i) {
        return Ok((rest, Expr::Lit(lit, span)));
    }
    if let Ok((rest, _)) = sym("[", "`[`")(i) {
        if let Some((rest, comp)) = comprehension(start, rest, "]", "`]`")? {
            return Ok((rest, comp));
        }
        let (rest, items) = cut(list_body(expr, "]", "`]`")).parse(rest)?;
        return Ok((rest, Expr::List(items, span_of(&start, &rest))));
    }
    if let Ok((rest, _)) = sym("(", "`(`")(i) {
        let (rest, e) = cut(expr).parse(rest)?;
        let (rest, _) = cut(sym(")", "`)`")).parse(rest)?;
        return Ok((rest, e));
    }
    let (rest, name) = ident(i).map_err(|e| match e {
        nom::Err::Error(_) => nom::Err::Error(PError::at(&start, "an expression")),
        e => e,
    })?;
    if let Ok((after, open)) = sym("(", "`(`")(rest) {
        // Python's generator argument: `all(rank(x) == 4 for x in xs)` is `all([... for x in xs])`.
        if let Some((rest, comp)) = comprehension(open, after, ")", "`)`")? {
            return Ok((rest, Expr::Call(name, vec![comp], span_of(&start, &rest))));
        }
        let (rest, args) = cut(list_body(expr, ")", "`)`")).parse(after)?;
        return Ok((rest, Expr::Call(name, args, span_of(&start, &rest))));
    }
    Ok((rest, Expr::Var(name)))
}

/// `body for var in list close` after an opening bracket, when the text after the first
/// expression is `for`; `None` (nothing consumed) when it is an ordinary list.
fn comprehension<'a>(open: In<'a>, i: In<'a>, close: &'static str, label: &'static str) -> Result<Option<(In<'a>, Expr)>, nom::Err<PError>> {
    let Ok((after_body, body)) = expr(i) else { return Ok(None) };
    let Ok((rest, _)) = kw("for", "`for`")(after_body) else { return Ok(None) };
    let (rest, var) = cut(ident).parse(rest)?;
    let (rest, _) = cut(kw("in", "`in`")).parse(rest)?;
    let (rest, list) = cut(expr).parse(rest)?;
    let (rest, _) = cut(sym(close, label)).parse(rest)?;
    let span = span_of(&open, &rest);
    Ok(Some((rest, Expr::Comp { body: Box::new(body), var, list: Box::new(list), span })))
}

/// `item, item, ... close` (trailing comma allowed), after the opening bracket.
fn list_body<'a, T>(
    mut item: impl FnMut(In<'a>) -> PResult<'a, T>,
    close: &'static str,
    label: &'static str,
) -> impl FnMut(In<'a>) -> PResult<'a, Vec<T>> {
    move |mut i: In<'a>| {
        let mut out = Vec::new();
        loop {
            if let Ok((rest, _)) = sym(close, label)(i) {
                return Ok((rest, out));
            }
            let (rest, x) = match item(i) {
                Ok(x) => x,
                Err(nom::Err::Error(e)) => {
                    let e = if out.is_empty() { e.or(PError::at(&ws(i)?.0, label)) } else { e };
                    return Err(nom::Err::Failure(e));
                }
                Err(e) => return Err(e),
            };
            out.push(x);
            i = rest;
            match sym(",", "`,`")(i) {
                Ok((rest, _)) => i = rest,
                Err(nom::Err::Error(e)) => {
                    return match sym(close, label)(i) {
                        Ok((rest, _)) => Ok((rest, out)),
                        Err(nom::Err::Error(e2)) => Err(nom::Err::Failure(e.or(e2))),
                        Err(e2) => Err(e2),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Patterns and terms

fn proj_suffix(i: In) -> PResult<(u32, In)> {
    let (i, _) = ws(i)?;
    let (rest, _) = char('.').parse(i).map_err(|_: nom::Err<PError>| nom::Err::Error(PError::at(&i, "`.`")))?;
    let (rest, d) = match digit1::<In, PError>(rest) {
        Ok(x) => x,
        Err(_) => return Err(nom::Err::Failure(PError::at(&rest, "an output index"))),
    };
    match d.fragment().parse::<u32>() {
        Ok(n) => Ok((rest, (n, rest))),
        Err(_) => Err(nom::Err::Failure(bad(&d, "output index too large".into()))),
    }
}

fn attr_pat(i: In) -> PResult<AttrPat> {
    let (i, _) = ws(i)?;
    let _level = nest(&i)?;
    let start = i;
    if let Ok((rest, _)) = sym("[", "`[`")(i) {
        let (rest, items) = cut(list_body(attr_pat, "]", "`]`")).parse(rest)?;
        return Ok((rest, AttrPat::List(items, span_of(&start, &rest))));
    }
    if let Ok((rest, _)) = char::<In, PError>('-').parse(i) {
        let (rest, (lit, _)) = cut(number).parse(rest)?;
        let lit = match lit {
            Lit::Int(n) => Lit::Int(n.wrapping_neg()),
            Lit::Float(f) => Lit::Float(-f),
            l => l,
        };
        return Ok((rest, AttrPat::Lit(lit, span_of(&start, &rest))));
    }
    if let Ok((rest, (lit, span))) = literal(i) {
        return Ok((rest, AttrPat::Lit(lit, span)));
    }
    match ident(i) {
        Ok((rest, id)) if id.name == "_" => Ok((rest, AttrPat::Wildcard(id.span))),
        Ok((rest, id)) => Ok((rest, AttrPat::Var(id))),
        Err(_) => Err(nom::Err::Error(PError::at(&start, "an attribute pattern"))),
    }
}

fn attr_pats(i: In) -> PResult<Vec<AttrPattern>> {
    let Ok((rest, _)) = sym("{", "`{`")(i) else { return Ok((i, vec![])) };
    cut(list_body(
        |i| {
            let (i, name) = ident(i)?;
            let (i, _) = cut(sym("=", "`=`")).parse(i)?;
            let (i, value) = cut(attr_pat).parse(i)?;
            Ok((i, AttrPattern { name, value }))
        },
        "}",
        "`}`",
    ))
    .parse(rest)
}

/// A left-hand-side pattern.
pub fn pattern(i: In) -> PResult<Pattern> {
    let (i, _) = ws(i)?;
    let start = i;
    let (mut i, mut p) = pattern_primary(i)?;
    while let Ok((rest, (n, end))) = proj_suffix(i) {
        p = Pattern::Proj(Box::new(p), n, span_of(&start, &end));
        i = rest;
    }
    Ok((i, p))
}

fn pattern_primary(i: In) -> PResult<Pattern> {
    let _level = nest(&i)?;
    let start = i;
    if let Ok((rest, _)) = sym("(", "`(`")(i) {
        let (rest, p) = cut(pattern).parse(rest)?;
        let (rest, _) = cut(sym(")", "`)`")).parse(rest)?;
        return Ok((rest, p));
    }
    let (rest, name) = ident(i).map_err(|e| match e {
        nom::Err::Error(_) => nom::Err::Error(PError::at(&start, "a pattern")),
        e => e,
    })?;
    if name.name == "_" {
        return Ok((rest, Pattern::Wildcard(name.span)));
    }
    if let Ok((rest, _)) = sym("..", "`..`")(rest) {
        return Ok((rest, Pattern::Rest(name, span_of(&start, &rest))));
    }
    if let Ok((rest, _)) = sym("@", "`@`")(rest) {
        let (rest, p) = cut(pattern).parse(rest)?;
        return Ok((rest, Pattern::Bind(name, Box::new(p))));
    }
    if let Ok((rest, _)) = sym("(", "`(`")(rest) {
        let (rest, args) = cut(list_body(pattern, ")", "`)`")).parse(rest)?;
        let (rest, attrs) = attr_pats(rest)?;
        return Ok((rest, Pattern::Op(OpPattern { op: name, args, attrs, span: span_of(&start, &rest) })));
    }
    Ok((rest, Pattern::Var(name)))
}

/// A right-hand-side term.
pub fn term(i: In) -> PResult<Term> {
    let (i, _) = ws(i)?;
    let start = i;
    let (mut i, mut t) = term_primary(i)?;
    while let Ok((rest, (n, end))) = proj_suffix(i) {
        t = Term::Proj(Box::new(t), n, span_of(&start, &end));
        i = rest;
    }
    Ok((i, t))
}

fn term_primary(i: In) -> PResult<Term> {
    let (i, _) = ws(i)?;
    let _level = nest(&i)?;
    let start = i;
    if let Ok((rest, _)) = sym("[", "`[`")(i) {
        let (rest, body) = cut(term).parse(rest)?;
        let (rest, _) = cut(kw("for", "`for`")).parse(rest)?;
        let (rest, var) = cut(ident).parse(rest)?;
        let (rest, _) = cut(kw("in", "`in`")).parse(rest)?;
        let (rest, list) = cut(ident).parse(rest)?;
        let (rest, _) = cut(sym("]", "`]`")).parse(rest)?;
        let (rest, _) = cut(sym("..", "`..` (a mapped list is spread into the arguments)")).parse(rest)?;
        return Ok((rest, Term::Map { body: Box::new(body), var, list, span: span_of(&start, &rest) }));
    }
    let (rest, name) = ident(i).map_err(|e| match e {
        nom::Err::Error(_) => nom::Err::Error(PError::at(&start, "a term")),
        e => e,
    })?;
    if name.name == "fold" {
        if let Ok((after, _)) = ident(rest) {
            let _ = after;
            let (rest, inner) = cut(term_primary).parse(rest)?;
            return Ok((rest, Term::Fold(Box::new(inner), span_of(&start, &rest))));
        }
    }
    if let Ok((rest, _)) = sym("..", "`..`")(rest) {
        return Ok((rest, Term::Spread(name, span_of(&start, &rest))));
    }
    let Ok((rest, _)) = sym("(", "`(`")(rest) else {
        return Ok((rest, Term::Var(name)));
    };
    if name.name == "const" {
        let (rest, e) = cut(expr).parse(rest)?;
        let (rest, _) = cut(sym(")", "`)`")).parse(rest)?;
        return Ok((rest, Term::Const(e, span_of(&start, &rest))));
    }
    let (rest, args) = cut(list_body(term, ")", "`)`")).parse(rest)?;
    let (rest, params) = match sym("{", "`{`")(rest) {
        Ok((rest, _)) => cut(list_body(
            |i| {
                let (i, name) = ident(i)?;
                let (i, _) = cut(sym("=", "`=`")).parse(i)?;
                let (i, value) = cut(expr).parse(i)?;
                Ok((i, (name, value)))
            },
            "}",
            "`}`",
        ))
        .parse(rest)?,
        Err(_) => (rest, vec![]),
    };
    Ok((rest, Term::Op { op: name, args, params, span: span_of(&start, &rest) }))
}

// ---------------------------------------------------------------------------------------------
// Items

fn clauses(mut i: In) -> PResult<Vec<Clause>> {
    let mut out = Vec::new();
    loop {
        if let Ok((rest, _)) = kw("where", "`where`")(i) {
            let (rest, first) = cut(expr).parse(rest)?;
            let mut guards = vec![first];
            let mut r = rest;
            while let Ok((rest, _)) = sym(",", "`,`")(r) {
                let (rest, g) = cut(expr).parse(rest)?;
                guards.push(g);
                r = rest;
            }
            out.push(Clause::Where(guards));
            i = r;
        } else if let Ok((rest, _)) = kw("let", "`let`")(i) {
            let (rest, name) = cut(ident).parse(rest)?;
            let (rest, _) = cut(sym("=", "`=`")).parse(rest)?;
            let (rest, e) = cut(expr).parse(rest)?;
            out.push(Clause::Let(name, e));
            i = rest;
        } else {
            return Ok((i, out));
        }
    }
}

fn rule(i: In) -> PResult<Item> {
    let (i, _) = ws(i)?;
    let start = i;
    let (i, _) = kw("rule", "`rule`")(i)?;
    let (i, name) = cut(ident).parse(i)?;
    let (i, _) = cut(sym(":", "`:`")).parse(i)?;
    let (i, lhs) = cut(pattern).parse(i)?;
    let (i, cls) = clauses(i)?;
    let (i, _) = cut(|i| alt((sym("=>", "`=>`"), kw("where", "`where`"), kw("let", "`let`"))).parse(i)).parse(i)?;
    let (i, rhs) = rhs(i)?;
    Ok((i, Item::Rule(Rule { name, lhs, clauses: cls, rhs, span: span_of(&start, &i) })))
}

/// A right-hand side: one term, or a tuple of terms mapping the outputs.
fn rhs(i: In) -> PResult<Rhs> {
    match sym("(", "`(`")(i) {
        Ok((rest, open)) => {
            let (rest, ts) = cut(list_body(term, ")", "`)`")).parse(rest)?;
            Ok((rest, Rhs::Outputs(ts, span_of(&open, &rest))))
        }
        Err(_) => map(cut(term), Rhs::Term).parse(i),
    }
}

fn param(i: In) -> PResult<Param> {
    let (i, name) = ident(i)?;
    let (i, _) = cut(sym(":", "`:`")).parse(i)?;
    let (i, ty) = cut(ident).parse(i)?;
    let (i, _) = cut(sym("=", "`=`")).parse(i)?;
    let (i, value) = cut(expr).parse(i)?;
    Ok((i, Param { name, ty, value }))
}

fn field(i: In) -> PResult<Field> {
    let (i, name) = ident(i)?;
    if let Ok((rest, open)) = sym("{", "`{`")(i) {
        let (rest, ps) = cut(list_body(param, "}", "`}`")).parse(rest)?;
        return Ok((rest, Field { name, value: FieldValue::Params(ps, span_of(&open, &rest)) }));
    }
    let (i, _) = cut(|i| alt((sym("=", "`=`"), sym("{", "`{`"))).parse(i)).parse(i)?;
    if name.name == "reference" {
        let (i, rhs) = rhs(i)?;
        return Ok((i, Field { name, value: FieldValue::Reference(rhs) }));
    }
    let (i, e) = cut(expr).parse(i)?;
    Ok((i, Field { name, value: FieldValue::Expr(e) }))
}

fn custom(i: In) -> PResult<Item> {
    let (i, _) = ws(i)?;
    let start = i;
    let (i, _) = kw("custom", "`custom`")(i)?;
    let (i, name) = cut(ident).parse(i)?;
    let (i, ov) = opt(kw("override", "`override`")).parse(i)?;
    let (i, _) = cut(sym(":", "`:`")).parse(i)?;
    let (i, lhs) = cut(pattern).parse(i)?;
    let (i, cls) = clauses(i)?;
    let (i, fields) = many0(field).parse(i)?;
    let override_ = ov.map(|o| Span::new(o.location_offset(), o.location_offset() + "override".len()));
    Ok((i, Item::Custom(Registration { name, override_, lhs, clauses: cls, fields, span: span_of(&start, &i) })))
}

fn infer(i: In) -> PResult<Item> {
    let (i, _) = ws(i)?;
    let start = i;
    let (i, _) = kw("infer", "`infer`")(i)?;
    let (i, op) = cut(ident).parse(i)?;
    let (i, _) = cut(sym("(", "`(`")).parse(i)?;
    let (i, inputs) = cut(list_body(ident, ")", "`)`")).parse(i)?;
    let (i, attrs) = attr_pats(i)?;
    let (i, cls) = clauses(i)?;
    let (i, _) = cut(sym("->", "`->`")).parse(i)?;
    let output = |i| {
        let (i, _) = kw("tensor", "`tensor`")(i)?;
        let (i, _) = cut(sym("(", "`(`")).parse(i)?;
        let (i, d) = cut(expr).parse(i)?;
        let (i, _) = cut(sym(",", "`,`")).parse(i)?;
        let (i, s) = cut(expr).parse(i)?;
        let (i, _) = cut(sym(")", "`)`")).parse(i)?;
        Ok((i, (d, s)))
    };
    let (i, outputs) = cut(nom::multi::separated_list1(sym(",", "`,`"), output)).parse(i)?;
    Ok((i, Item::Infer(Infer { op, inputs, attrs, clauses: cls, outputs, span: span_of(&start, &i) })))
}

fn item(i: In) -> PResult<Item> {
    alt((rule, custom, infer)).parse(i)
}

/// Offset of the next line at or after `from` that begins (after indentation) with an item keyword.
fn next_item_start(src: &str, from: usize) -> usize {
    let mut from = from.min(src.len());
    while from < src.len() && !src.is_char_boundary(from) {
        from += 1;
    }
    let mut line_start = src[..from].rfind('\n').map_or(0, |p| p + 1);
    while line_start < src.len() {
        let line_end = src[line_start..].find('\n').map_or(src.len(), |p| line_start + p);
        let line = &src[line_start..line_end];
        let indent = line.len() - line.trim_start().len();
        let word_at = line_start + indent;
        if word_at >= from {
            let rest = &src[word_at..line_end];
            if ITEM_KEYWORDS.iter().any(|k| {
                rest.starts_with(k) && !rest[k.len()..].starts_with(is_ident_char)
            }) {
                return word_at;
            }
        }
        line_start = line_end + 1;
    }
    src.len()
}

/// Parses a whole file. Returns every item that parsed and every syntax error (one per broken
/// item), in source order.
pub fn parse_file(src: &str) -> (File, Vec<PError>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut i = In::new(src);
    loop {
        let Ok((rest, _)) = ws(i) else { break };
        i = rest;
        if i.fragment().is_empty() {
            break;
        }
        let start = i.location_offset();
        match item(i) {
            Ok((rest, it)) => {
                items.push(it);
                i = rest;
            }
            Err(nom::Err::Error(mut e) | nom::Err::Failure(mut e)) => {
                if e.offset == start && e.message.is_none() {
                    e.expected = vec!["`rule`", "`custom`", "`infer`"];
                }
                let resume = next_item_start(src, e.offset.max(start + 1));
                errors.push(e);
                i = skip_to(src, resume);
            }
            Err(nom::Err::Incomplete(_)) => break,
        }
    }
    (File { items }, errors)
}

fn skip_to(src: &str, offset: usize) -> In<'_> {
    In::new(src).take_from_offset(offset)
}

trait TakeFrom<'a> {
    fn take_from_offset(self, offset: usize) -> In<'a>;
}

impl<'a> TakeFrom<'a> for In<'a> {
    fn take_from_offset(self, offset: usize) -> In<'a> {
        take_n(self, offset.min(self.fragment().len())).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> File {
        let (f, errs) = parse_file(src);
        assert!(errs.is_empty(), "{:?}", errs.iter().map(|e| e.describe(src)).collect::<Vec<_>>());
        f
    }

    #[test]
    fn parses_a_simple_rule() {
        let f = ok("# c\nrule relu6:\n  Relu6(x) => clip(x) { minVal = 0.0, maxVal = 6.0 }\n");
        assert_eq!(f.items.len(), 1);
        assert_eq!(f.items[0].name().name, "relu6");
    }

    #[test]
    fn non_ascii_strings_and_recovery_offsets() {
        // Regression: `take` counts chars, not bytes; a multi-byte char once looped forever.
        let f = ok("rule a: Foo(x) { s = \"é€\" } => x\n");
        assert_eq!(f.items.len(), 1);
        let src = "rule é: x\nrule b: Relu(x) => x\n";
        let (f, errs) = parse_file(src);
        assert_eq!((f.items.len(), errs.len()), (1, 1));
    }

    #[test]
    fn expression_precedence() {
        let (_, e) = expr(In::new("1 + 2 * 3 == 7 and not x")).unwrap();
        assert_eq!(e.to_string(), "1 + 2 * 3 == 7 and not x");
        let (_, e) = expr(In::new("(1 + 2) * 3")).unwrap();
        assert_eq!(e.to_string(), "(1 + 2) * 3");
    }

    #[test]
    fn conditional_is_loosest_and_right_associative() {
        use crate::rules::compile::eval_const;
        use crate::rules::value::Value;
        let (_, e) = expr(In::new("1 + 1 if 2 > 3 else 10 if true else 20")).unwrap();
        let Expr::If { then, else_, .. } = &e else { panic!("not a conditional: {e:?}") };
        assert_eq!((then.to_string(), else_.to_string()), ("1 + 1".to_string(), "10 if true else 20".to_string()));
        assert_eq!(eval_const(&e).unwrap(), Value::Int(10));
        // Inside an operator it is parenthesised, and the printed form re-parses to itself.
        let (_, e) = expr(In::new("2 * (1 if false else 3)")).unwrap();
        assert_eq!(e.to_string(), "2 * (1 if false else 3)");
        assert_eq!(eval_const(&e).unwrap(), Value::Int(6));
        // Only the chosen branch runs: the other would fail (an index past the list).
        let (_, e) = expr(In::new("at([1], 5) if false else 0")).unwrap();
        assert_eq!(eval_const(&e).unwrap(), Value::Int(0));
        assert!(eval_const(&expr(In::new("1 if 3 else 2")).unwrap().1).unwrap_err().contains("not a bool"));
    }

    #[test]
    fn recovers_and_reports_every_broken_rule() {
        let src = "rule a: Relu(x) => \nrule b: Relu6(x) => clip(x)\nrule c: Foo(x { } => x\n";
        let (f, errs) = parse_file(src);
        assert_eq!(f.items.len(), 1);
        assert_eq!(errs.len(), 2);
        assert!(errs[1].describe(src).contains("expected"), "{}", errs[1].describe(src));
    }
}
