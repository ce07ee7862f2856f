//! Image inputs read from PNG files (`mlrewrite run --image NAME=photo.png`): the pixels an app
//! would hand Core ML, as `[H, W, C]` values 0..255 in the color order the model's image input
//! declares, for [`super::Interpreter`] to apply the model's own preprocessing to.
//!
//! Nothing is guessed: the PNG must have the declared width and height (Core ML would resize
//! with a scaling policy of the app's choosing, so `run` does not), and its color kind must
//! match (an RGB or RGBA file for an RGB or BGR input, a grayscale file for a grayscale input);
//! alpha is dropped as Core ML ignores it, and for a BGR input the file's RGB channels are
//! reversed. 16-bit files are refused: Core ML images are 8 bits per channel.

use crate::proto::coreml::feature_type::Type;
use crate::proto::coreml::image_feature_type::ColorSpace;
use crate::proto::coreml::Model;
use ndarray::{ArrayD, IxDyn};
use std::path::{Path, PathBuf};

/// The largest decoded image `run` reads (8-bit samples).
const MAX_IMAGE_BYTES: usize = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum ImageFileError {
    #[error("cannot read {path}: {cause}")]
    Read { path: PathBuf, cause: std::io::Error },
    #[error("{path} is not a readable PNG: {cause}")]
    Decode { path: PathBuf, cause: png::DecodingError },
    #[error("{path}: {why}")]
    Unsupported { path: PathBuf, why: String },
    #[error("{path}: the model has no input `{name}`; its inputs are: {available}")]
    NoSuchInput { path: PathBuf, name: String, available: String },
    #[error("{path}: model input `{name}` is not an image input (make it one with `convert --image-input {name}`, or give it in --inputs)")]
    NotImage { path: PathBuf, name: String },
    #[error("{path}: {why} (mlrewrite run does not resize or convert images)")]
    Mismatch { path: PathBuf, why: String },
}

/// A decoded 8-bit PNG: `[H, W, C]` pixel values 0..255, `C` = 1 (gray) or 3 (RGB), alpha
/// dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Pixels {
    pub values: ArrayD<f32>,
}

impl Pixels {
    pub fn height(&self) -> usize {
        self.values.shape()[0]
    }
    pub fn width(&self) -> usize {
        self.values.shape()[1]
    }
    pub fn channels(&self) -> usize {
        self.values.shape()[2]
    }
}

/// Reads an 8-bit PNG (palette and low-bit gray expanded to 8 bits; alpha dropped).
pub fn read_png(path: &Path) -> Result<Pixels, ImageFileError> {
    let file = std::fs::File::open(path).map_err(|cause| ImageFileError::Read { path: path.to_owned(), cause })?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let decode = |cause| ImageFileError::Decode { path: path.to_owned(), cause };
    let mut reader = decoder.read_info().map_err(decode)?;
    let (color, depth) = reader.output_color_type();
    if depth != png::BitDepth::Eight {
        return Err(ImageFileError::Unsupported {
            path: path.to_owned(),
            why: format!("{} bits per channel; Core ML images have 8", depth as u8),
        });
    }
    // The header's size is checked before allocating: a 100,000 x 100,000 header would
    // otherwise ask for 40 GB and abort the process.
    let size = reader
        .output_buffer_size()
        .filter(|&n| n <= MAX_IMAGE_BYTES)
        .ok_or_else(|| ImageFileError::Unsupported { path: path.to_owned(), why: format!("the image is too large (over {} MB decoded)", MAX_IMAGE_BYTES >> 20) })?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(decode)?;
    let (h, w) = (frame.height as usize, frame.width as usize);
    let (stored, kept) = match color {
        png::ColorType::Grayscale => (1, 1),
        png::ColorType::GrayscaleAlpha => (2, 1),
        png::ColorType::Rgb => (3, 3),
        png::ColorType::Rgba => (4, 3),
        // EXPAND turns palette images into RGB(A); a palette left is a malformed file.
        png::ColorType::Indexed => return Err(ImageFileError::Unsupported { path: path.to_owned(), why: "a palette image without a usable palette".into() }),
    };
    let mut values = Vec::with_capacity(h * w * kept);
    for row in buf[..frame.buffer_size()].chunks_exact(frame.line_size) {
        for px in row[..w * stored].chunks_exact(stored) {
            values.extend(px[..kept].iter().map(|&v| f32::from(v)));
        }
    }
    let values = ArrayD::from_shape_vec(IxDyn(&[h, w, kept]), values)
        .map_err(|_| ImageFileError::Unsupported { path: path.to_owned(), why: format!("the decoded rows do not hold {h} x {w} pixels") })?;
    Ok(Pixels { values })
}

/// The pixels of the PNG at `path` for the model's image input `name`: `[H, W, C]` in the
/// input's color order, checked against its declared size and color space.
pub fn image_input(model: &Model, name: &str, path: &Path) -> Result<ArrayD<f32>, ImageFileError> {
    let inputs = model.description.as_ref().map(|d| d.input.as_slice()).unwrap_or_default();
    let Some(feature) = inputs.iter().find(|f| f.name == name) else {
        let available = inputs.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(ImageFileError::NoSuchInput { path: path.to_owned(), name: name.into(), available });
    };
    let Some(Type::ImageType(image)) = feature.r#type.as_ref().and_then(|t| t.r#type.as_ref()) else {
        return Err(ImageFileError::NotImage { path: path.to_owned(), name: name.into() });
    };
    let pixels = read_png(path)?;
    let mismatch = |why: String| ImageFileError::Mismatch { path: path.to_owned(), why };
    let (w, h) = (image.width as usize, image.height as usize);
    if (pixels.width(), pixels.height()) != (w, h) {
        return Err(mismatch(format!("the PNG is {}x{}, image input `{name}` is {w}x{h}", pixels.width(), pixels.height())));
    }
    let color = ColorSpace::try_from(image.color_space).unwrap_or(ColorSpace::InvalidColorSpace);
    let kind = |c: usize| if c == 1 { "grayscale" } else { "color" };
    match (color, pixels.channels()) {
        (ColorSpace::Grayscale, 1) | (ColorSpace::Rgb, 3) => Ok(pixels.values),
        (ColorSpace::Bgr, 3) => {
            let mut v = pixels.values;
            v.invert_axis(ndarray::Axis(2));
            Ok(v.as_standard_layout().into_owned())
        }
        (ColorSpace::Grayscale | ColorSpace::Rgb | ColorSpace::Bgr, c) => Err(mismatch(format!(
            "the PNG is {}, image input `{name}` is {}",
            kind(c),
            color.as_str_name().to_lowercase()
        ))),
        (other, _) => Err(ImageFileError::Unsupported {
            path: path.to_owned(),
            why: format!("image input `{name}` has color space {}, which a PNG cannot give", other.as_str_name()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, w: u32, h: u32, color: png::ColorType, depth: png::BitDepth, data: &[u8]) {
        let file = std::fs::File::create(path).unwrap();
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
        enc.set_color(color);
        enc.set_depth(depth);
        enc.write_header().unwrap().write_image_data(data).unwrap();
    }

    #[test]
    fn rgba_drops_alpha_and_gray_alpha_keeps_gray() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("a.png");
        write_png(&p, 2, 1, png::ColorType::Rgba, png::BitDepth::Eight, &[1, 2, 3, 9, 4, 5, 6, 9]);
        assert_eq!(read_png(&p).unwrap().values.into_raw_vec_and_offset().0, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        write_png(&p, 1, 2, png::ColorType::GrayscaleAlpha, png::BitDepth::Eight, &[7, 0, 8, 0]);
        let px = read_png(&p).unwrap();
        assert_eq!((px.height(), px.width(), px.channels()), (2, 1, 1));
        assert_eq!(px.values.into_raw_vec_and_offset().0, vec![7.0, 8.0]);
    }

    #[test]
    fn sixteen_bit_and_garbage_are_refused_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("deep.png");
        write_png(&p, 1, 1, png::ColorType::Grayscale, png::BitDepth::Sixteen, &[1, 2]);
        let e = read_png(&p).unwrap_err().to_string();
        assert!(e.contains("deep.png") && e.contains("16 bits per channel"), "{e}");
        std::fs::write(&p, b"not a png").unwrap();
        let e = read_png(&p).unwrap_err().to_string();
        assert!(e.contains("deep.png is not a readable PNG"), "{e}");
    }
}
