//! Image inputs (`convert --image-input NAME --scale S --bias B,.. [--bgr]`), as coremltools'
//! `ct.ImageType(scale=, bias=, color_layout=)` makes them for the Neural Network backend: the
//! input becomes an `ImageFeatureType` (width and height from the static shape, RGB, BGR or
//! GRAYSCALE from the channel count) with a `scaler` preprocessing entry, so Core ML computes
//! `scale * pixel + bias[channel]` before the first layer.
//!
//! Core ML hands an image to the network as `[1, C, H, W]` (RANK4_IMAGE_MAPPING), while a
//! TensorFlow graph reads `[1, H, W, C]`: a `transpose` layer (axes 0,2,3,1) is put first and
//! every reader of the input reads its output instead, as coremltools does for channel-last
//! images. Applied after lowering, like the metadata and classifier passes.

use crate::proto::coreml::feature_type::Type;
use crate::proto::coreml::image_feature_type::ColorSpace;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::neural_network_preprocessing::Preprocessor;
use crate::proto::coreml::{
    model, FeatureType, ImageFeatureType, Model, NeuralNetworkImageScaler, NeuralNetworkLayer, NeuralNetworkPreprocessing, TransposeLayerParams,
};

/// What `--image-input/--scale/--bias/--bgr` ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInput {
    pub name: String,
    pub scale: f32,
    /// Per channel, in the color layout's order (R,G,B; with `bgr` B,G,R; one value for
    /// grayscale), as `ct.ImageType(bias=...)`. Empty means no bias.
    pub bias: Vec<f32>,
    pub bgr: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageInputError {
    #[error("--image-input `{name}`: the model has no input of that name; its inputs are: {available}")]
    NoSuchInput { name: String, available: String },
    #[error("--image-input `{name}`: {why}")]
    Shape { name: String, why: String },
    #[error("--image-input `{name}`: --bias has {got} values, a {channels}-channel image needs {channels}")]
    BiasCount { name: String, got: usize, channels: usize },
    #[error("--image-input `{name}`: --bgr needs a 3-channel input, it has 1 channel")]
    BgrGray { name: String },
    #[error("--image-input: the model is not a neuralNetwork (apply --image-input before --class-labels)")]
    NotNeuralNetwork,
    #[error("--image-input `{name}`: the blob `{blob}` the transpose would write already exists")]
    BlobTaken { name: String, blob: String },
}

/// Renames the blob `from` to `to` in every layer input, nested networks included.
fn rename_reads(layers: &mut [NeuralNetworkLayer], from: &str, to: &str) {
    for l in layers {
        for i in l.input.iter_mut().filter(|i| *i == from) {
            *i = to.to_string();
        }
        match &mut l.layer {
            Some(Layer::Loop(p)) => {
                for net in p.condition_network.iter_mut().chain(p.body_network.iter_mut()) {
                    rename_reads(&mut net.layers, from, to);
                }
            }
            Some(Layer::Branch(p)) => {
                for net in p.if_branch.iter_mut().chain(p.else_branch.iter_mut()) {
                    rename_reads(&mut net.layers, from, to);
                }
            }
            _ => {}
        }
    }
}

fn blob_exists(layers: &[NeuralNetworkLayer], blob: &str) -> bool {
    layers.iter().any(|l| l.output.iter().chain(&l.input).any(|b| b == blob))
}

/// Where the lowering turned the NHWC input back to NCHW (a top-level `transpose` with axes
/// 0,3,1,2 reading the NHWC blob, not itself a model output), its readers read the image
/// directly: the two transposes compose to the identity. The NHWC transpose (layer 0) goes
/// too when nothing reads it any more.
fn cancel_transpose_pairs(layers: &mut Vec<NeuralNetworkLayer>, image: &str, outputs: &[crate::proto::coreml::FeatureDescription]) {
    let nhwc = layers[0].output[0].clone();
    let back: Vec<String> = layers[1..]
        .iter()
        .filter(|l| l.input == [nhwc.clone()] && l.output.len() == 1 && matches!(&l.layer, Some(Layer::Transpose(t)) if t.axes == [0, 3, 1, 2]))
        .map(|l| l.output[0].clone())
        .filter(|b| !outputs.iter().any(|o| o.name == *b))
        .collect();
    for b in &back {
        layers.retain(|l| !(l.output.len() == 1 && l.output[0] == *b));
        rename_reads(layers, b, image);
    }
    let mut readers = 0;
    count_reads(&layers[1..], &nhwc, &mut readers);
    if readers == 0 && !outputs.iter().any(|o| o.name == nhwc) {
        layers.remove(0);
    }
}

fn count_reads(layers: &[NeuralNetworkLayer], blob: &str, n: &mut usize) {
    for l in layers {
        *n += l.input.iter().filter(|i| *i == blob).count();
        match &l.layer {
            Some(Layer::Loop(p)) => {
                for net in p.condition_network.iter().chain(p.body_network.iter()) {
                    count_reads(&net.layers, blob, n);
                }
            }
            Some(Layer::Branch(p)) => {
                for net in p.if_branch.iter().chain(p.else_branch.iter()) {
                    count_reads(&net.layers, blob, n);
                }
            }
            _ => {}
        }
    }
}

/// Makes input `spec.name` of a lowered `neuralNetwork` an image input.
pub fn make_image_input(model: &mut Model, spec: &ImageInput) -> Result<(), ImageInputError> {
    let name = spec.name.clone();
    let shape_err = |why: String| ImageInputError::Shape { name: name.clone(), why };
    let d = model.description.get_or_insert_with(Default::default);
    let available = d.input.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
    let Some(f) = d.input.iter_mut().find(|f| f.name == spec.name) else {
        return Err(ImageInputError::NoSuchInput { name: spec.name.clone(), available });
    };
    let shape = match f.r#type.as_ref().and_then(|t| t.r#type.as_ref()) {
        Some(Type::MultiArrayType(a)) if a.shape_flexibility.is_some() => {
            return Err(shape_err("the input has a flexible shape; an image input needs a fixed [1, H, W, C] shape".into()))
        }
        Some(Type::MultiArrayType(a)) => a.shape.clone(),
        _ => return Err(shape_err("the input is not a multi-array".into())),
    };
    let [1, h, w, c] = shape[..] else {
        return Err(shape_err(format!("expected a [1, H, W, C] (NHWC) input, it has shape {shape:?}")));
    };
    let color = match (c, spec.bgr) {
        (1, true) => return Err(ImageInputError::BgrGray { name }),
        (1, false) => ColorSpace::Grayscale,
        (3, false) => ColorSpace::Rgb,
        (3, true) => ColorSpace::Bgr,
        _ => return Err(shape_err(format!("an image has 1 or 3 channels, the input's last dim is {c} (shape {shape:?})"))),
    };
    let channels = c as usize;
    if !spec.bias.is_empty() && spec.bias.len() != channels {
        return Err(ImageInputError::BiasCount { name, got: spec.bias.len(), channels });
    }
    let bias = |i: usize| spec.bias.get(i).copied().unwrap_or(0.0);
    let scaler = match color {
        ColorSpace::Grayscale => NeuralNetworkImageScaler { channel_scale: spec.scale, gray_bias: bias(0), ..Default::default() },
        ColorSpace::Bgr => NeuralNetworkImageScaler { channel_scale: spec.scale, blue_bias: bias(0), green_bias: bias(1), red_bias: bias(2), gray_bias: 0.0 },
        _ => NeuralNetworkImageScaler { channel_scale: spec.scale, red_bias: bias(0), green_bias: bias(1), blue_bias: bias(2), gray_bias: 0.0 },
    };
    let Some(model::Type::NeuralNetwork(nn)) = &mut model.r#type else {
        return Err(ImageInputError::NotNeuralNetwork);
    };
    let nhwc = format!("{}__nhwc", spec.name);
    if blob_exists(&nn.layers, &nhwc) {
        return Err(ImageInputError::BlobTaken { name, blob: nhwc });
    }
    f.r#type = Some(FeatureType {
        r#type: Some(Type::ImageType(ImageFeatureType { width: w, height: h, color_space: color as i32, ..Default::default() })),
        ..Default::default()
    });
    rename_reads(&mut nn.layers, &spec.name, &nhwc);
    nn.layers.insert(
        0,
        NeuralNetworkLayer {
            name: nhwc.clone(),
            input: vec![spec.name.clone()],
            output: vec![nhwc],
            layer: Some(Layer::Transpose(TransposeLayerParams { axes: vec![0, 2, 3, 1] })),
            ..Default::default()
        },
    );
    cancel_transpose_pairs(&mut nn.layers, &spec.name, &d.output);
    nn.preprocessing.push(NeuralNetworkPreprocessing { feature_name: spec.name.clone(), preprocessor: Some(Preprocessor::Scaler(scaler)) });
    Ok(())
}
