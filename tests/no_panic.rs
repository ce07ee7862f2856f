//! Bad bytes never panic the importer: arbitrary bytes, every truncation of every small
//! corpus and fixture file, byte mutations of the fixtures, and for the 6.9 MB MobileNet
//! (every truncation would be quadratic: 6.9 M decodes of up to 6.9 MB) every top-level field
//! boundary (each `node` ends at one) plus 1000 seeded random offsets. Each input goes through
//! import and, when that succeeds, inference; errors are fine, panics are not.

mod common;

use bytes::Bytes;
use mlrewrite::ir::{import_bytes, infer, ShapeRegistry};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn import_and_infer(bytes: &[u8]) {
    if let Ok(mut g) = import_bytes(Bytes::copy_from_slice(bytes), Path::new("fuzz.pb")) {
        let _ = infer(&mut g, &ShapeRegistry::tensorflow());
    }
}

fn small_graphs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<PathBuf> = Vec::new();
    for dir in [root.join("tests/fixtures"), root.join("examples")] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            v.extend(rd.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "pb")));
        }
    }
    if let Some(c) = common::corpus_dir() {
        v.extend(common::corpus_names().iter().map(|n| c.join(format!("{n}.pb"))));
    }
    v.retain(|p| std::fs::metadata(p).map(|m| m.len() < 200_000).unwrap_or(false));
    v.sort();
    v
}

#[test]
fn every_truncation_of_small_graphs() {
    for path in small_graphs() {
        let bytes = std::fs::read(&path).unwrap();
        for n in 0..bytes.len() {
            import_and_infer(&bytes[..n]);
        }
    }
}

/// Offsets where a top-level field of the GraphDef ends (varint key, then a varint length for
/// length-delimited fields).
fn top_level_boundaries(b: &[u8]) -> Vec<usize> {
    fn varint(b: &[u8], mut i: usize) -> Option<(u64, usize)> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(i)?;
            i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some((v, i));
            }
        }
        None
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let Some((key, j)) = varint(b, i) else { break };
        i = match key & 7 {
            0 => match varint(b, j) {
                Some((_, k)) => k,
                None => break,
            },
            2 => match varint(b, j) {
                Some((len, k)) => k + len as usize,
                None => break,
            },
            1 => j + 8,
            5 => j + 4,
            _ => break,
        };
        out.push(i.min(b.len()));
    }
    out
}

#[test]
fn mobilenet_truncations_at_node_boundaries_and_random_offsets() {
    let Some(c) = common::corpus_dir() else { return };
    let bytes = std::fs::read(c.join("mobilenet_v2_035.pb")).unwrap();
    let mut offsets = top_level_boundaries(&bytes);
    assert!(offsets.len() > 689, "expected a boundary per node, found {}", offsets.len());
    // Boundaries minus one byte cut the last field short.
    offsets.extend(offsets.clone().iter().map(|o| o.saturating_sub(1)));
    // A fixed-seed LCG (Knuth's MMIX constants) so the offsets are the same on every run.
    let mut state: u64 = 0x5eed;
    for _ in 0..1000 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        offsets.push((state >> 33) as usize % bytes.len());
    }
    for n in offsets {
        import_and_infer(&bytes[..n]);
    }
}

proptest! {
    // 512 cases by default; PROPTEST_CASES=100000 for a deeper run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        .. ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        import_and_infer(&bytes);
    }

    #[test]
    fn mutated_fixtures(file in 0usize..64, edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let files = small_graphs();
        let path = &files[file % files.len()];
        let mut bytes = std::fs::read(path).unwrap();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        import_and_infer(&bytes);
    }
}
