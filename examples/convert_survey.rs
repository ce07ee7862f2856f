//! Survey for rule authors: converts each graph given on the command line to a `TermDag` and
//! prints its layers by kind (before lowering) or the unsupported ops.
//!
//! `cargo run --example convert_survey -- tests/fixtures/*.pb ../shared/corpus/*.pb`
use mlrewrite::ir::{self, ShapeRegistry};
use mlrewrite::rewrite::{convert, lang::Node, ConvertOptions};
use mlrewrite::rules::load::{LoadOptions, RuleSet};
use std::collections::BTreeMap;

fn main() {
    let rules = RuleSet::load(&LoadOptions::default()).and_then(|r| r.compile()).expect("the standard rules load");
    let mut paths: Vec<_> = std::env::args().skip(1).map(std::path::PathBuf::from).collect();
    paths.sort();
    for p in paths {
        let t = std::time::Instant::now();
        let g = match ir::load(&p, &ShapeRegistry::tensorflow()) {
            Ok((g, _)) => g,
            Err(e) => { println!("{}: LOAD {e}", p.display()); continue; }
        };
        match convert(&g, &rules, &ConvertOptions::default()) {
            Ok((dag, stats)) => {
                let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
                for t in &dag.nodes {
                    let k = match &t.node { Node::Nn { kind, .. } => kind.to_string(), Node::Custom { reg, .. } => format!("custom {reg}"), Node::Const(_) => "const".into(), _ => continue };
                    *kinds.entry(k).or_default() += 1;
                }
                println!("{}: OK {} terms {:?} | {} iters {} nodes stop={} {:?}ms", p.display(), dag.nodes.len(), kinds, stats.saturation.iterations, stats.saturation.nodes, stats.saturation.stop, t.elapsed().as_millis());
            }
            Err(e) => println!("{}: ERR {e}", p.display()),
        }
    }
}
