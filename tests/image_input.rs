//! Image inputs (`convert --image-input NAME --scale S --bias B,..`), as coremltools'
//! `ImageType`: the input becomes an RGB image with a `scaler` preprocessing entry and a
//! transpose to the graph's NHWC layout; `run` takes raw pixels (HWC or CHW) whose scaled
//! values are the fixture's golden input and reproduces TensorFlow's outputs. The same pixels
//! without the preprocessing do not.

mod common;

use common::{mlrewrite, s, text};

use mlrewrite::proto::coreml::feature_type::Type;
use mlrewrite::proto::coreml::neural_network_preprocessing::Preprocessor;
use mlrewrite::proto::coreml::{model, Model};
use mlrewrite::run::npz::{read_npz, write_npz};
use ndarray::{ArrayD, Axis};
use prost::Message;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

const SCALE: f32 = 0.03125;
const BIAS: [f32; 3] = [-4.0, -4.1, -4.2];

fn example(ext: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(format!("tiny_mobilenet.{ext}"))
}

/// Pixels `p` with `SCALE * p + BIAS[c]` = the golden input, as `[H, W, C]`.
fn pixels() -> ArrayD<f32> {
    let g = read_npz(&example("npz")).unwrap();
    let x = g["input:0"].index_axis(Axis(0), 0).to_owned();
    let mut p = x.clone();
    for (c, mut plane) in p.axis_iter_mut(Axis(2)).enumerate() {
        plane.mapv_inplace(|v| (v - BIAS[c]) / SCALE);
    }
    assert!(p.iter().all(|&v| (0.0..=255.0).contains(&v)), "pixel values in 0..255");
    p
}

fn convert(out: &Path, extra: &[&str]) {
    let pb = example("pb");
    let mut args = vec!["convert", s(&pb), "-o", s(out), "--image-input", "input"];
    args.extend_from_slice(extra);
    let o = mlrewrite(&args);
    assert!(o.status.success(), "{}", text(&o));
}

fn run(model: &Path, inputs: &Path) -> Output {
    mlrewrite(&["run", s(model), "--inputs", s(inputs), "--compare", s(&example("npz"))])
}

#[test]
fn raw_pixels_through_the_scaler_match_tensorflow() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("img.mlmodel");
    convert(&out, &["--scale", "0.03125", "--bias", "-4,-4.1,-4.2"]);
    let m = Model::decode(std::fs::read(&out).unwrap().as_slice()).unwrap();
    let d = m.description.as_ref().unwrap();
    let Some(Type::ImageType(img)) = d.input[0].r#type.as_ref().unwrap().r#type.as_ref() else { panic!("not an image input: {:?}", d.input[0]) };
    assert_eq!((img.width, img.height, img.color_space), (32, 32, 20));
    let Some(model::Type::NeuralNetwork(nn)) = &m.r#type else { panic!("not a neuralNetwork") };
    // The lowering's NHWC -> NCHW transpose and the image's NCHW -> NHWC one cancel.
    assert!(!nn.layers.iter().any(|l| matches!(l.layer, Some(mlrewrite::proto::coreml::neural_network_layer::Layer::Transpose(_)))), "a transpose is left");
    let Some(Preprocessor::Scaler(sc)) = &nn.preprocessing[0].preprocessor else { panic!("no scaler") };
    assert_eq!((nn.preprocessing[0].feature_name.as_str(), sc.channel_scale, sc.red_bias, sc.green_bias, sc.blue_bias), ("input", SCALE, -4.0, -4.1, -4.2));

    let hwc = pixels();
    let chw = hwc.clone().permuted_axes(ndarray::IxDyn(&[2, 0, 1])).as_standard_layout().into_owned();
    for (layout, a) in [("hwc", hwc), ("chw", chw)] {
        let npz = tmp.path().join(format!("{layout}.npz"));
        write_npz(&npz, &BTreeMap::from([("input".to_string(), a)])).unwrap();
        let o = run(&out, &npz);
        assert!(o.status.success() && text(&o).contains("PASS: 1 compared"), "{layout}: {}", text(&o));
    }
    let o = mlrewrite(&["inspect", s(&out)]);
    assert!(text(&o).contains("input  image 32x32 RGB"), "{}", text(&o));
}

#[test]
fn the_same_pixels_without_the_preprocessing_do_not_match() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("img.mlmodel");
    convert(&out, &[]);
    let npz = tmp.path().join("hwc.npz");
    write_npz(&npz, &BTreeMap::from([("input".to_string(), pixels())])).unwrap();
    let o = run(&out, &npz);
    assert!(!o.status.success() && text(&o).contains("FAIL"), "{}", text(&o));
}

#[test]
fn bad_image_inputs_are_errors_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("img.mlmodel");
    let pb = example("pb");
    for (extra, want) in [
        (vec!["--image-input", "nope"], "--image-input `nope`: the model has no input of that name; its inputs are: input"),
        (vec!["--image-input", "input", "--bias", "1,2"], "--bias has 2 values, a 3-channel image needs 3"),
    ] {
        let mut args = vec!["convert", s(&pb), "-o", s(&out)];
        args.extend(extra);
        let o = mlrewrite(&args);
        assert!(!o.status.success() && text(&o).contains(want), "expected `{want}` in:\n{}", text(&o));
    }
    let wrong = tmp.path().join("wrong.npz");
    convert(&out, &[]);
    write_npz(&wrong, &BTreeMap::from([("input".to_string(), ArrayD::zeros(ndarray::IxDyn(&[16, 32, 3])))])).unwrap();
    let o = run(&out, &wrong);
    assert!(!o.status.success() && text(&o).contains("the image is 32x32 with 3 channel(s)"), "{}", text(&o));
}
