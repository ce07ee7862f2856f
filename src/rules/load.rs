//! Assembles a rule set: the standard library embedded in the binary, then the files of a
//! user's `--rules` directory on top. A user item with the name of a standard one replaces it
//! (reported, so `-v` can say so); `--no-std-rules` leaves the standard library out.
//! Everything is parsed and checked together, so every diagnostic of every file comes out of
//! one load.

use super::ast::{File, Item};
use super::check::{self, CheckResult};
use super::compile::CompiledRule;
use super::diag::{self, Diagnostic, FileId, Origin, Sources};
use super::ops::{OpCatalog, TfOpDefs};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The standard library, embedded at build time (`rules/*.rules`; a test checks the list is
/// complete).
pub const STD_RULES: &[(&str, &str)] = &[
    ("activations.rules", include_str!("../../rules/activations.rules")),
    ("conv.rules", include_str!("../../rules/conv.rules")),
    ("einsum.rules", include_str!("../../rules/einsum.rules")),
    ("elementwise.rules", include_str!("../../rules/elementwise.rules")),
    ("layout.rules", include_str!("../../rules/layout.rules")),
    ("linalg.rules", include_str!("../../rules/linalg.rules")),
    ("matmul.rules", include_str!("../../rules/matmul.rules")),
    ("normalization.rules", include_str!("../../rules/normalization.rules")),
    ("pad.rules", include_str!("../../rules/pad.rules")),
    ("pool.rules", include_str!("../../rules/pool.rules")),
    ("reduce.rules", include_str!("../../rules/reduce.rules")),
    ("resize.rules", include_str!("../../rules/resize.rules")),
    ("crop.rules", include_str!("../../rules/crop.rules")),
    ("random.rules", include_str!("../../rules/random.rules")),
    ("nms.rules", include_str!("../../rules/nms.rules")),
    ("audio.rules", include_str!("../../rules/audio.rules")),
    ("projective.rules", include_str!("../../rules/projective.rules")),
    ("shape.rules", include_str!("../../rules/shape.rules")),
    ("dynamic.rules", include_str!("../../rules/dynamic.rules")),
    ("spatial.rules", include_str!("../../rules/spatial.rules")),
    ("topk.rules", include_str!("../../rules/topk.rules")),
    ("math.rules", include_str!("../../rules/math.rules")),
    ("indexing.rules", include_str!("../../rules/indexing.rules")),
    ("segment.rules", include_str!("../../rules/segment.rules")),
    ("trig.rules", include_str!("../../rules/trig.rules")),
    ("recurrent.rules", include_str!("../../rules/recurrent.rules")),
    ("lists.rules", include_str!("../../rules/lists.rules")),
    ("conv3d.rules", include_str!("../../rules/conv3d.rules")),
    ("signal.rules", include_str!("../../rules/signal.rules")),
    ("arith.rules", include_str!("../../rules/arith.rules")),
    ("reorder.rules", include_str!("../../rules/reorder.rules")),
    ("solve.rules", include_str!("../../rules/solve.rules")),
    ("special.rules", include_str!("../../rules/special.rules")),
    ("custom.rules", include_str!("../../rules/custom.rules")),
];

/// Where rules come from.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Directories (or single files) of user rules, loaded after the standard library.
    pub user: Vec<PathBuf>,
    /// Leave the standard library out.
    pub no_std: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read rules from {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{count} error(s) in the rule files")]
    Invalid { count: usize },
    #[error("rule `{name}`: {message}")]
    Compile { name: String, message: String },
}

/// A parsed and checked set of rule files.
#[derive(Debug)]
pub struct RuleSet {
    pub sources: Sources,
    /// Parsed files (items of every file, including those that were replaced).
    pub files: Vec<(FileId, File)>,
    /// Errors and warnings, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Standard items replaced by a user item of the same name: (name, user file).
    pub replaced: Vec<(String, FileId)>,
    dead: HashSet<(FileId, usize)>,
    skipped: HashSet<(FileId, usize)>,
}

/// Reads the `.rules` files of a directory (sorted by name) or a single file.
fn read_user(path: &Path, sources: &mut Sources) -> Result<Vec<FileId>, RulesError> {
    let io = |source| RulesError::Io { path: path.to_path_buf(), source };
    let mut files = vec![];
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "rules"))
            .collect();
        entries.sort();
        for p in entries {
            let text = std::fs::read_to_string(&p).map_err(|source| RulesError::Io { path: p.clone(), source })?;
            files.push(sources.add(p.display().to_string(), text, Origin::User));
        }
    } else {
        let text = std::fs::read_to_string(path).map_err(io)?;
        files.push(sources.add(path.display().to_string(), text, Origin::User));
    }
    Ok(files)
}

impl RuleSet {
    /// Loads with the full TF OpDef catalog.
    pub fn load(opts: &LoadOptions) -> Result<RuleSet, RulesError> {
        Self::load_with(opts, &TfOpDefs)
    }

    pub fn load_with(opts: &LoadOptions, catalog: &dyn OpCatalog) -> Result<RuleSet, RulesError> {
        let mut sources = Sources::default();
        if !opts.no_std {
            for (name, text) in STD_RULES {
                sources.add(format!("std:{name}"), *text, Origin::Std);
            }
        }
        for p in &opts.user {
            read_user(p, &mut sources)?;
        }
        Ok(Self::from_sources(sources, catalog))
    }

    /// Parses and checks already-loaded sources.
    pub fn from_sources(sources: Sources, catalog: &dyn OpCatalog) -> RuleSet {
        let mut diagnostics = vec![];
        let mut files = vec![];
        for (id, f) in sources.files.iter().enumerate() {
            let (file, errors) = super::parser::parse_file(&f.text);
            for e in errors {
                let end = (e.offset + super::parser::found_token(&f.text, e.offset).trim_matches('`').len().max(1)).min(f.text.len().max(e.offset));
                diagnostics.push(
                    Diagnostic::error("rules::syntax", id, super::ast::Span::new(e.offset, end.max(e.offset)), e.describe(&f.text))
                        .label("here")
                        .help("see docs/rules.md for the syntax; this item was skipped, the rest of the file is still checked"),
                );
            }
            files.push((id, file));
        }
        // User items replace standard items of the same name.
        let mut replaced = vec![];
        let mut skipped = HashSet::new();
        let user_names: Vec<(String, FileId)> = files
            .iter()
            .filter(|(id, _)| sources.files[*id].origin == Origin::User)
            .flat_map(|(id, f)| f.items.iter().filter(|i| !matches!(i, Item::Infer(_))).map(move |i| (i.name().name.clone(), *id)))
            .collect();
        for (id, f) in &files {
            if sources.files[*id].origin != Origin::Std {
                continue;
            }
            for (idx, item) in f.items.iter().enumerate() {
                if let Some((_, uf)) = user_names.iter().find(|(n, _)| *n == item.name().name) {
                    if !matches!(item, Item::Infer(_)) {
                        skipped.insert((*id, idx));
                        replaced.push((item.name().name.clone(), *uf));
                    }
                }
            }
        }
        let kept: Vec<(FileId, File)> = files
            .iter()
            .map(|(id, f)| {
                let items = f.items.iter().enumerate().filter(|(i, _)| !skipped.contains(&(*id, *i))).map(|(_, it)| it.clone()).collect();
                (*id, File { items })
            })
            .collect();
        let refs: Vec<(FileId, &File)> = kept.iter().map(|(id, f)| (*id, f)).collect();
        let CheckResult { diagnostics: checked, dead } = check::check_files(&refs, catalog);
        // `dead` indexes the kept files; map back to original item indices.
        let mut dead_orig = HashSet::new();
        for (fid, kidx) in dead {
            let orig = (0..files[fid].1.items.len()).filter(|i| !skipped.contains(&(fid, *i))).nth(kidx);
            if let Some(o) = orig {
                dead_orig.insert((fid, o));
            }
        }
        diagnostics.extend(checked);
        diag::sort(&mut diagnostics);
        RuleSet { sources, files, diagnostics, replaced, dead: dead_orig, skipped }
    }

    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    /// Items in effect (not replaced by a user item), with their file.
    pub fn items(&self) -> impl Iterator<Item = (FileId, &Item)> {
        self.files.iter().flat_map(move |(id, f)| {
            f.items.iter().enumerate().filter(move |(i, _)| !self.skipped.contains(&(*id, *i))).map(move |(_, it)| (*id, it))
        })
    }

    /// Compiles every live rule and registration. Registrations marked `override` remove the
    /// rules rooted at the same TF op, so the custom layer is the only way to convert it.
    pub fn compile(&self) -> Result<Compiled, RulesError> {
        self.compile_with(&TfOpDefs)
    }

    pub fn compile_with(&self, catalog: &dyn OpCatalog) -> Result<Compiled, RulesError> {
        self.compile_inner(catalog, true)
    }

    /// Compiles the rules without any registration (so no override switches a rule off):
    /// what a custom layer's `reference` is converted with, since it must come down to NN
    /// layers and must not turn back into the custom layer it stands for.
    pub fn compile_rules_only(&self) -> Result<Compiled, RulesError> {
        self.compile_inner(&TfOpDefs, false)
    }

    fn compile_inner(&self, catalog: &dyn OpCatalog, with_registrations: bool) -> Result<Compiled, RulesError> {
        if self.errors() > 0 {
            return Err(RulesError::Invalid { count: self.errors() });
        }
        let mut rules = vec![];
        let mut registrations = vec![];
        for (id, f) in &self.files {
            for (idx, item) in f.items.iter().enumerate() {
                if self.skipped.contains(&(*id, idx)) || self.dead.contains(&(*id, idx)) {
                    continue;
                }
                match item {
                    Item::Rule(r) => rules.push(Arc::new(CompiledRule::from_rule(r))),
                    Item::Custom(_) if !with_registrations => {}
                    Item::Custom(c) => registrations.push(Arc::new(
                        CompiledRule::from_registration(c, catalog).map_err(|message| RulesError::Compile { name: c.name.name.clone(), message })?,
                    )),
                    Item::Infer(_) => {}
                }
            }
        }
        // An override claims its op wherever it occurs: every other rule or registration whose
        // pattern contains the op is switched off, so a multi-op pattern (hard-swish around a
        // Relu6) cannot absorb the op and silently drop the custom layer the user forced.
        let overridden: Vec<String> = registrations.iter().filter(|r| r.is_override()).filter_map(|r| r.root_op().map(str::to_string)).collect();
        let claimed = |r: &CompiledRule| !r.is_override() && overridden.iter().any(|o| r.mentions_op(o));
        let (rules, mut disabled): (Vec<_>, Vec<_>) = rules.into_iter().partition(|r| !claimed(r));
        let (registrations, off): (Vec<_>, Vec<_>) = registrations.into_iter().partition(|r| !claimed(r));
        disabled.extend(off);
        let mut shapes = crate::ir::ShapeRegistry::tensorflow();
        super::bridge::register_infers(self, &mut shapes);
        Ok(Compiled { rules, registrations, disabled_by_override: disabled.iter().map(|r| r.name.clone()).collect(), shapes: Arc::new(shapes) })
    }
}

/// Rules and registrations ready for the e-graph.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub rules: Vec<Arc<CompiledRule>>,
    pub registrations: Vec<Arc<CompiledRule>>,
    /// Rules left out because an `override` registration claims their op.
    pub disabled_by_override: Vec<String>,
    /// TensorFlow's shape functions with the rule set's `infer` items registered over them:
    /// what import and the e-graph analysis use, so a declared op's outputs have facts in
    /// `convert` and `explain` alike.
    pub shapes: Arc<crate::ir::ShapeRegistry>,
}

/// Rewrites with the profile of each rule, by rule name.
pub type ProfiledRewrites<N> = (Vec<egg::Rewrite<crate::rewrite::lang::Node, N>>, Vec<(String, std::sync::Arc<super::compile::RuleProfile>)>);

impl Compiled {
    /// egg rewrites for every rule and registration.
    pub fn rewrites<N>(&self) -> Result<Vec<egg::Rewrite<crate::rewrite::lang::Node, N>>, RulesError>
    where
        N: egg::Analysis<crate::rewrite::lang::Node>,
        N::Data: crate::rewrite::lang::ClassData,
    {
        self.rewrites_reporting(super::compile::FailureSink::default())
    }

    /// egg rewrites for every rule and registration, reporting into `failures` the matches
    /// whose right-hand side failed to build.
    pub fn rewrites_reporting<N>(&self, failures: super::compile::FailureSink) -> Result<Vec<egg::Rewrite<crate::rewrite::lang::Node, N>>, RulesError>
    where
        N: egg::Analysis<crate::rewrite::lang::Node>,
        N::Data: crate::rewrite::lang::ClassData,
    {
        self.rules
            .iter()
            .chain(&self.registrations)
            .map(|r| r.to_rewrite_reporting(failures.clone()).map_err(|message| RulesError::Compile { name: r.name.clone(), message }))
            .collect()
    }

    /// egg rewrites as [`Compiled::rewrites_reporting`], each with the [`RuleProfile`] its
    /// searcher and applier add their time to, by rule name (what `convert --stats` ranks).
    pub fn rewrites_profiled<N>(&self, failures: super::compile::FailureSink, budget: &super::compile::Budget) -> Result<ProfiledRewrites<N>, RulesError>
    where
        N: egg::Analysis<crate::rewrite::lang::Node>,
        N::Data: crate::rewrite::lang::ClassData,
    {
        let mut rewrites = vec![];
        let mut profiles = vec![];
        for r in self.rules.iter().chain(&self.registrations) {
            let profile = std::sync::Arc::<super::compile::RuleProfile>::default();
            rewrites.push(r.to_rewrite_profiled(failures.clone(), profile.clone(), budget.clone()).map_err(|message| RulesError::Compile { name: r.name.clone(), message })?);
            profiles.push((r.name.clone(), profile));
        }
        Ok((rewrites, profiles))
    }
}
