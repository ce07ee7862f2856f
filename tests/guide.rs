//! The worked example of docs/guide.md: the `Tan` rule is taken from the guide's `rules`
//! block, a one-node graph is converted with it and the interpreter's output is compared with
//! `f32::tan` (the expected values are computed here, by Rust's libm).

mod common;

use ndarray::ArrayD;
use prost::Message;
use std::collections::BTreeMap;
use std::process::Command;

fn guide_rule() -> String {
    let guide = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/guide.md")).unwrap();
    let start = guide.find("```rules\n# my_rules/trig.rules").expect("the guide's Tan rule block") + "```rules\n".len();
    let len = guide[start..].find("```").unwrap();
    guide[start..start + len].to_string()
}

#[test]
fn tan_rule_of_the_guide_converts_and_matches() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("my_rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("trig.rules"), guide_rule()).unwrap();

    let mut tan = common::node("tan", "Tan", &["x"], &[("T", common::a_type(1))]);
    tan.name = "tan".into();
    let g = common::graph(vec![common::placeholder("x", &[2, 3]), tan]);
    let pb = dir.path().join("tan.pb");
    std::fs::write(&pb, g.encode_to_vec()).unwrap();

    let x: Vec<f32> = vec![-1.2, -0.5, 0.0, 0.3, 0.9, 1.4];
    let mut data = BTreeMap::new();
    data.insert("x:0".to_string(), ArrayD::from_shape_vec(vec![2, 3], x.clone()).unwrap());
    data.insert("tan:0".to_string(), ArrayD::from_shape_vec(vec![2, 3], x.iter().map(|v| v.tan()).collect()).unwrap());
    let npz = dir.path().join("tan.npz");
    mlrewrite::run::npz::write_npz(&npz, &data).unwrap();

    let bin = env!("CARGO_BIN_EXE_mlrewrite");
    // The standard library emits Core ML's tan layer; the guide's rule replaces it.
    let model = dir.path().join("tan.mlmodel");
    let o = Command::new(bin).arg("convert").arg(&pb).arg("-o").arg(&model).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("layers: tan 1"), "{}", String::from_utf8_lossy(&o.stdout));

    let o = Command::new(bin).args(["rules", "check"]).arg(&rules).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(bin).arg("convert").arg(&pb).arg("-o").arg(&model).arg("--rules").arg(&rules).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("cos 1") && summary.contains("sin 1") && !summary.contains("tan 1"), "{summary}");
    let o = Command::new(bin).arg("run").arg(&model).arg("--inputs").arg(&npz).arg("--compare").arg(&npz).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.contains("PASS: 1 compared"), "{out}");
}
