//! `mlrewrite run --image NAME=FILE.png`: image-input classifiers made from Keras models
//! (tests/fixtures/image, tools/make_image_fixtures.py) run on the PNG that TensorFlow's
//! pixels were written to and reproduce TensorFlow's probabilities and its top label. RGB
//! (also from an RGBA file), grayscale and a BGR network; the same BGR network without
//! `--bgr` does not match, so the channel order is really honoured. A PNG of the wrong size or
//! color kind, or given for a non-image input, is an error naming the file.

mod common;

use common::{mlrewrite, s, text};
use std::path::{Path, PathBuf};

fn fixture(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/image").join(file)
}

/// The fixture's `convert` flags and TensorFlow's top label.
fn manifest(name: &str) -> (Vec<String>, String) {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap()).unwrap();
    let flags = v["convert"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    (flags, v["label"].as_str().unwrap().to_string())
}

/// Converts fixture `name` with `flags` and its class labels into `out`.
fn convert(name: &str, out: &Path, flags: &[String]) {
    let pb = fixture(&format!("{name}.pb"));
    let labels = fixture(&format!("{name}.labels.txt"));
    let mut args = vec!["convert", s(&pb), "-o", s(out), "--class-labels", s(&labels)];
    args.extend(flags.iter().map(String::as_str));
    let o = mlrewrite(&args);
    assert!(o.status.success(), "{name}: {}", text(&o));
}

fn run_png(model: &Path, png: &Path, golden: &Path) -> std::process::Output {
    let image = format!("image={}", png.display());
    mlrewrite(&["run", s(model), "--image", &image, "--compare", s(golden)])
}

#[test]
fn classifiers_run_on_their_png_and_match_tensorflow() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, pngs) in [("rgb", &["rgb.png", "rgb.rgba.png"][..]), ("gray", &["gray.png"]), ("bgr", &["bgr.png"])] {
        let (flags, label) = manifest(name);
        let out = tmp.path().join(format!("{name}.mlmodel"));
        convert(name, &out, &flags);
        for png in pngs {
            let o = run_png(&out, &fixture(png), &fixture(&format!("{name}.npz")));
            let t = text(&o);
            assert!(o.status.success() && t.contains("PASS: 1 compared"), "{png}:\n{t}");
            assert!(t.contains(&format!("predicted `classLabel`: {label}")), "{png}: expected TensorFlow's label {label}:\n{t}");
        }
    }
}

#[test]
fn the_bgr_network_read_as_rgb_does_not_match() {
    let tmp = tempfile::tempdir().unwrap();
    let (flags, _) = manifest("bgr");
    let out = tmp.path().join("rgb_order.mlmodel");
    // The same biases, without --bgr: the network gets the PNG's channels in RGB order.
    convert("bgr", &out, &flags.iter().filter(|f| *f != "--bgr").cloned().collect::<Vec<_>>());
    let o = run_png(&out, &fixture("bgr.png"), &fixture("bgr.npz"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("FAIL"), "{}", text(&o));
}

#[test]
fn wrong_pngs_and_inputs_are_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let rgb = tmp.path().join("rgb.mlmodel");
    convert("rgb", &rgb, &manifest("rgb").0);
    let golden = fixture("rgb.npz");
    let o = run_png(&rgb, &fixture("gray.png"), &golden);
    assert!(!o.status.success() && text(&o).contains("gray.png: the PNG is grayscale, image input `image` is rgb (mlrewrite run does not resize"), "{}", text(&o));

    let big = tmp.path().join("big.mlmodel");
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/tiny_mobilenet.pb");
    let o = mlrewrite(&["convert", s(&example), "-o", s(&big), "--image-input", "input"]);
    assert!(o.status.success(), "{}", text(&o));
    let image = format!("input={}", fixture("rgb.png").display());
    let o = mlrewrite(&["run", s(&big), "--image", &image]);
    assert!(!o.status.success() && text(&o).contains("rgb.png: the PNG is 16x16, image input `input` is 32x32"), "{}", text(&o));

    let plain = tmp.path().join("plain.mlmodel");
    let o = mlrewrite(&["convert", s(&fixture("rgb.pb")), "-o", s(&plain)]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run_png(&plain, &fixture("rgb.png"), &golden);
    assert!(!o.status.success() && text(&o).contains("model input `image` is not an image input"), "{}", text(&o));
    let o = mlrewrite(&["run", s(&rgb), "--image", "nope=x.png"]);
    assert!(!o.status.success() && text(&o).contains("x.png: the model has no input `nope`; its inputs are: image"), "{}", text(&o));
    let o = mlrewrite(&["run", s(&rgb)]);
    assert!(!o.status.success() && text(&o).contains("--inputs"), "{}", text(&o));
}

/// The PNG CRC-32 of `bytes` (ISO 3309), to write a header by hand.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// A PNG header claiming 60,000 x 60,000 RGB (10.8 GB decoded) is refused before anything
/// is allocated for it.
#[test]
fn a_png_header_of_a_huge_image_is_refused_before_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    let rgb = tmp.path().join("rgb.mlmodel");
    convert("rgb", &rgb, &manifest("rgb").0);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let chunk = |png: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        png.extend((data.len() as u32).to_be_bytes());
        let body: Vec<u8> = kind.iter().chain(data).copied().collect();
        png.extend(&body);
        png.extend(crc32(&body).to_be_bytes());
    };
    let mut ihdr = vec![];
    ihdr.extend(60_000u32.to_be_bytes());
    ihdr.extend(60_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, adaptive filter, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]); // zlib of nothing
    chunk(&mut png, b"IEND", &[]);
    let huge = tmp.path().join("huge.png");
    std::fs::write(&huge, png).unwrap();
    let o = mlrewrite(&["run", s(&rgb), "--image", &format!("image={}", huge.display())]);
    assert!(!o.status.success() && text(&o).contains("huge.png") && text(&o).contains("too large"), "{}", text(&o));
}
