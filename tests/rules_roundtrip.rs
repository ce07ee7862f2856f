//! The printer and the parser agree (print a tree, parse it, get the same tree), and no edit
//! of the standard rule files makes the parser or checker panic.

use mlrewrite::rules::ast::*;
use mlrewrite::rules::diag::{render_all, Origin, Sources};
use mlrewrite::rules::load::STD_RULES;
use mlrewrite::rules::ops::TfOpDefs;
use mlrewrite::rules::parser::parse_file;
use mlrewrite::rules::RuleSet;
use proptest::prelude::*;

fn s() -> Span {
    Span::default()
}

fn id(name: &str) -> Ident {
    Ident { name: name.to_string(), span: s() }
}

fn parse_ok(src: &str) -> File {
    let (f, errs) = parse_file(src);
    assert!(errs.is_empty(), "{:?}\n{src}", errs.iter().map(|e| e.describe(src)).collect::<Vec<_>>());
    f
}

#[test]
fn standard_files_round_trip() {
    for (name, text) in STD_RULES {
        let f = parse_ok(text);
        let printed = f.to_string();
        let again = parse_ok(&printed);
        assert_eq!(f, again, "{name} changed after printing:\n{printed}");
    }
}

#[test]
fn std_list_is_complete() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rules"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = STD_RULES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "rules/ and load::STD_RULES differ");
}

// ------------------------------------------------------------------ random trees

fn var_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["x", "y", "w", "k", "b", "pad", "sh", "a1", "gamma_", "n2"]).prop_map(String::from)
}

fn op_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["Conv2D", "Relu", "TopKV2", "clip", "convolution", "transpose", "MyOp"]).prop_map(String::from)
}

fn fn_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["dim", "rank", "value", "permute", "len", "float32"]).prop_map(String::from)
}

fn lit() -> impl Strategy<Value = Lit> {
    prop_oneof![
        (-1_000_000_000i64..1_000_000_000).prop_map(Lit::Int),
        (-1.0e6f64..1.0e6).prop_map(Lit::Float),
        prop::sample::select(vec![1e-5f64, 2.5e20, 0.1]).prop_map(Lit::Float),
        any::<bool>().prop_map(Lit::Bool),
        "[a-zA-Z0-9 _\"\\\\\n\t.-]{0,8}".prop_map(Lit::Str),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![lit().prop_map(|l| Expr::Lit(l, s())), var_name().prop_map(|n| Expr::Var(id(&n)))];
    leaf.prop_recursive(4, 24, 3, |inner| {
        let binop = prop::sample::select(vec![
            BinOp::Or, BinOp::And, BinOp::Eq, BinOp::Ne, BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge, BinOp::Add, BinOp::Sub, BinOp::Mul,
            BinOp::Div, BinOp::Rem,
        ]);
        prop_oneof![
            (fn_name(), prop::collection::vec(inner.clone(), 0..3)).prop_map(|(n, a)| Expr::Call(id(&n), a, s())),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|a| Expr::List(a, s())),
            (prop::sample::select(vec![UnOp::Neg, UnOp::Not]), inner.clone())
                // `-` of a literal is folded into the literal by the parser.
                .prop_filter("neg literal", |(op, e)| !(*op == UnOp::Neg && matches!(e, Expr::Lit(..))))
                .prop_map(|(op, e)| Expr::Unary(op, Box::new(e), s())),
            (binop, inner.clone(), inner.clone()).prop_map(|(op, a, b)| Expr::Binary(op, Box::new(a), Box::new(b), s())),
            (inner.clone(), var_name(), inner.clone())
                .prop_map(|(body, v, list)| Expr::Comp { body: Box::new(body), var: id(&v), list: Box::new(list), span: s() }),
            (inner.clone(), inner.clone(), inner).prop_map(|(c, a, b)| Expr::If {
                cond: Box::new(c),
                then: Box::new(a),
                else_: Box::new(b),
                span: s()
            }),
        ]
    })
}

fn attr_pat() -> impl Strategy<Value = AttrPat> {
    let leaf = prop_oneof![
        var_name().prop_map(|n| AttrPat::Var(id(&n))),
        Just(AttrPat::Wildcard(s())),
        lit().prop_map(|l| AttrPat::Lit(l, s())),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| prop::collection::vec(inner, 0..4).prop_map(|v| AttrPat::List(v, s())))
}

fn attrs() -> impl Strategy<Value = Vec<AttrPattern>> {
    prop::collection::vec((var_name(), attr_pat()).prop_map(|(n, v)| AttrPattern { name: id(&n), value: v }), 0..3)
}

fn pattern() -> impl Strategy<Value = Pattern> {
    let leaf = prop_oneof![
        var_name().prop_map(|n| Pattern::Var(id(&n))),
        Just(Pattern::Wildcard(s())),
        var_name().prop_map(|n| Pattern::Rest(id(&n), s())),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (op_name(), prop::collection::vec(inner.clone(), 0..3), attrs())
                .prop_map(|(op, args, attrs)| Pattern::Op(OpPattern { op: id(&op), args, attrs, span: s() })),
            (var_name(), inner.clone()).prop_map(|(n, p)| Pattern::Bind(id(&n), Box::new(p))),
            (inner, 0u32..3).prop_map(|(p, n)| Pattern::Proj(Box::new(p), n, s())),
        ]
    })
}

fn term() -> impl Strategy<Value = Term> {
    let leaf = prop_oneof![
        var_name().prop_map(|n| Term::Var(id(&n))),
        expr().prop_map(|e| Term::Const(e, s())),
        var_name().prop_map(|n| Term::Spread(id(&n), s())),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        let op = (op_name(), prop::collection::vec(inner.clone(), 0..3), prop::collection::vec((var_name().prop_map(|n| id(&n)), expr()), 0..3))
            .prop_map(|(op, args, params)| Term::Op { op: id(&op), args, params, span: s() })
            .boxed();
        prop_oneof![
            op.clone(),
            (inner.clone(), 0u32..3).prop_map(|(t, n)| Term::Proj(Box::new(t), n, s())),
            (inner, var_name(), var_name()).prop_map(|(body, v, l)| Term::Map { body: Box::new(body), var: id(&v), list: id(&l), span: s() }),
            op.prop_map(|t| Term::Fold(Box::new(t), s())),
        ]
    })
}

fn clauses() -> impl Strategy<Value = Vec<Clause>> {
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(expr(), 1..3).prop_map(Clause::Where),
            (var_name(), expr()).prop_map(|(n, e)| Clause::Let(id(&n), e)),
        ],
        0..3,
    )
}

fn item() -> impl Strategy<Value = Item> {
    let rule = (var_name(), pattern(), clauses(), prop_oneof![
        term().prop_map(Rhs::Term),
        prop::collection::vec(term(), 0..3).prop_map(|t| Rhs::Outputs(t, s())),
    ])
        .prop_map(|(n, lhs, clauses, rhs)| Item::Rule(Rule { name: id(&n), lhs, clauses, rhs, span: s() }));
    let field = prop_oneof![
        (var_name().prop_filter("`reference` takes a term", |n| n != "reference"), expr()).prop_map(|(n, e)| Field { name: id(&n), value: FieldValue::Expr(e) }),
        prop_oneof![term().prop_map(Rhs::Term), prop::collection::vec(term(), 0..3).prop_map(|t| Rhs::Outputs(t, s()))]
            .prop_map(|rhs| Field { name: id("reference"), value: FieldValue::Reference(rhs) }),
        prop::collection::vec((var_name(), prop::sample::select(vec!["int", "double", "bool", "string"]), expr()), 0..3).prop_map(|ps| Field {
            name: id("parameters"),
            value: FieldValue::Params(ps.into_iter().map(|(n, t, e)| Param { name: id(&n), ty: id(t), value: e }).collect(), s()),
        }),
    ];
    let custom = (var_name(), any::<bool>(), pattern(), clauses(), prop::collection::vec(field, 0..4)).prop_map(|(n, o, lhs, clauses, fields)| {
        Item::Custom(Registration { name: id(&n), override_: o.then(s), lhs, clauses, fields, span: s() })
    });
    let infer = (op_name(), prop::collection::vec(var_name(), 0..3), attrs(), clauses(), prop::collection::vec((expr(), expr()), 1..3))
        .prop_map(|(op, ins, attrs, clauses, outputs)| Item::Infer(Infer { op: id(&op), inputs: ins.iter().map(|n| id(n)).collect(), attrs, clauses, outputs, span: s() }));
    prop_oneof![rule, custom, infer]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_identity(items in prop::collection::vec(item(), 0..4)) {
        let f = File { items };
        let printed = f.to_string();
        let (again, errs) = parse_file(&printed);
        prop_assert!(errs.is_empty(), "{:?}\n{}", errs.iter().map(|e| e.describe(&printed)).collect::<Vec<_>>(), printed);
        prop_assert_eq!(f, again, "{}", printed);
    }

    #[test]
    fn edits_of_std_rules_never_panic(
        file in 0..STD_RULES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, "[a-z(){}\\[\\]=>,.@:#\"'\n é0-9_-]{0,3}"), 1..6),
    ) {
        let mut text = STD_RULES[file].1.to_string();
        for (at, kind, s) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) { i -= 1; }
            match kind {
                0 => text.insert_str(i, &s),
                1 => { let mut j = (i + s.len().max(1)).min(text.len()); while !text.is_char_boundary(j) { j += 1; } text.replace_range(i..j, ""); }
                _ => { let mut j = (i + 1).min(text.len()); while !text.is_char_boundary(j) { j += 1; } text.replace_range(i..j, &s); }
            }
        }
        let mut sources = Sources::default();
        sources.add("edited.rules", text, Origin::User);
        let set = RuleSet::from_sources(sources, &TfOpDefs);
        let _ = render_all(&set.diagnostics, &set.sources, 100);
        if set.errors() == 0 {
            let _ = set.compile();
        }
    }
}
