//! The rule directory a user would write for ops the tool should convert their way
//! (`tests/fixtures/user_rules`, issue 12's "Done when" examples): SpaceToDepth through
//! reshape and transpose, MatrixBandPart from a band mask constant, Roll by two slices and a
//! concat, chains that rewrite to TF ops the standard rules then convert, and a custom layer
//! with an `infer` whose output feeds a Reshape (run through its `reference`). Each user rule
//! has a standard rule's name, so it replaces that rule (`--rules` adds on top of the embedded
//! library; a same-named item shadows the standard one, and `-v` says so). Every graph
//! converts with `--rules DIR` and passes `run --compare` against TensorFlow's goldens.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mlrewrite(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlrewrite")).args(args).output().expect("runs")
}

fn text(o: &Output) -> String {
    format!("status {:?}\n{}{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// (fixture under tests/fixtures, standard rules the user files replace, rules that must
/// have applied: the user's and, for chains, the standard ones converting what it wrote)
const CASES: &[(&str, &[&str], &[&str])] = &[
    ("ops/space_to_depth_block2", &["space_to_depth_nhwc"], &["space_to_depth_nhwc"]),
    ("ops/matrix_band_part_1_2", &["matrix_band_part"], &["matrix_band_part", "mul"]),
    ("ops/matrix_band_part_lower_all", &["matrix_band_part"], &["matrix_band_part", "mul"]),
    ("ops/matrix_band_part_upper_all", &["matrix_band_part"], &["matrix_band_part", "mul"]),
    ("ops/roll_axis0", &["roll_one_axis"], &["roll_one_axis", "slice", "concat"]),
    ("ops/roll_negative_shift_last", &["roll_one_axis"], &["roll_one_axis", "slice", "concat"]),
    ("ops/roll_two_axes", &["roll_one_axis"], &["roll_axes", "roll_one_axis", "slice", "concat"]),
    ("custom_dilation_reshape", &[], &["Dilation2D"]),
];

fn check(fixture: &str, replaced: &[&str], applied: &[&str], dir: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let (pb, npz) = (root().join(format!("tests/fixtures/{fixture}.pb")), root().join(format!("tests/fixtures/{fixture}.npz")));
    let m = tmp.path().join("m.mlmodel");
    let o = mlrewrite(&["convert".as_ref(), pb.as_os_str(), "-o".as_ref(), m.as_os_str(), "--rules".as_ref(), dir.as_os_str(), "-v".as_ref()]);
    let t = text(&o);
    assert!(o.status.success(), "{fixture}: {t}");
    for r in replaced {
        assert!(t.contains(&format!("standard `{r}` is replaced by the one in")), "{fixture}: {r} not replaced\n{t}");
    }
    let after = &t[t.find("rule(s) applied").unwrap_or_else(|| panic!("{t}"))..];
    for r in applied {
        assert!(after.contains(&format!("\n  {r} ")), "{fixture}: `{r}` did not apply\n{t}");
    }
    let o = mlrewrite(&[
        "run".as_ref(),
        m.as_os_str(),
        "--inputs".as_ref(),
        npz.as_os_str(),
        "--compare".as_ref(),
        npz.as_os_str(),
        "--rules".as_ref(),
        dir.as_os_str(),
    ]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("PASS"), "{fixture}: {}", text(&o));
}

#[test]
fn user_rules_convert_and_match_tensorflow() {
    let dir = root().join("tests/fixtures/user_rules");
    let check_out = mlrewrite(&["rules".as_ref(), "check".as_ref(), dir.as_os_str()]);
    assert!(check_out.status.success() && text(&check_out).contains("0 error(s), 0 warning(s)"), "{}", text(&check_out));
    for (fixture, replaced, applied) in CASES {
        check(fixture, replaced, applied, &dir);
    }
}
