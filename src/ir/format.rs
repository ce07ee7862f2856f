//! Telling the user what a file is when it is not a binary GraphDef, and what to do next.
//!
//! prost's decode error ("invalid wire type") says nothing a user can act on. Before and after
//! decoding, the importer asks here whether the path is a text-format SavedModel directory, a
//! Keras file (HDF5 `.h5` or zip `.keras`), a text-format GraphDef (`.pbtxt`) or a SavedModel's
//! own `saved_model.pb` given without its directory, and names the format with the next step.
//! (A SavedModel directory with a binary `saved_model.pb` is read: `ir::savedmodel`.)

use std::path::Path;

/// How to freeze a SavedModel or Keras model with TensorFlow's own API (docs/guide.md shows the
/// same recipe).
pub const FREEZE_HINT: &str = "freeze it into a GraphDef first: in Python, \
`f = tf.function(model).get_concrete_function(tf.TensorSpec(SHAPE, tf.float32))`, then \
`from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2`, \
`tf.io.write_graph(convert_variables_to_constants_v2(f).graph.as_graph_def(), '.', 'model.pb', as_text=False)` \
(docs/guide.md, \"Freezing a model\")";

/// A recognised format that is not a binary GraphDef: what it is, and the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherFormat {
    pub what: &'static str,
    pub hint: String,
}

/// A directory given where a file was expected.
pub fn sniff_directory(path: &Path) -> OtherFormat {
    if path.join("saved_model.pbtxt").is_file() {
        OtherFormat {
            what: "a TensorFlow SavedModel directory in text format (saved_model.pbtxt)",
            hint: format!("mlrewrite reads the binary saved_model.pb; save the model again without `as_text`, or {FREEZE_HINT}"),
        }
    } else {
        OtherFormat { what: "a directory", hint: "give the path of a frozen GraphDef file (model.pb)".into() }
    }
}

/// The format of bytes that did not decode as a GraphDef, when it is recognisable.
pub fn sniff_bytes(path: &Path, bytes: &[u8]) -> Option<OtherFormat> {
    if bytes.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Some(OtherFormat { what: "a Keras HDF5 model (.h5)", hint: format!("load it with `tf.keras.models.load_model` and {FREEZE_HINT}") });
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Some(OtherFormat { what: "a zip archive (a Keras .keras model?)", hint: format!("load it with `tf.keras.models.load_model` and {FREEZE_HINT}") });
    }
    if path.file_name().is_some_and(|n| n == "saved_model.pb") {
        return Some(OtherFormat {
            what: "the SavedModel proto of a SavedModel directory",
            hint: "give the directory that holds it (and its variables/), not the file".into(),
        });
    }
    let head = &bytes[..bytes.len().min(4096)];
    let text = std::str::from_utf8(head).ok().filter(|t| t.chars().all(|c| !c.is_control() || c.is_whitespace()));
    if let Some(t) = text {
        let t = t.trim_start();
        if ["node {", "node{", "versions {", "library {"].iter().any(|k| t.starts_with(k)) || t.starts_with('#') {
            return Some(OtherFormat {
                what: "a text-format GraphDef (pbtxt)",
                hint: "mlrewrite reads the binary format; convert it with `tf.io.write_graph(graph_def, '.', 'model.pb', as_text=False)` after `google.protobuf.text_format.Parse`".into(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_keras_text_and_saved_model() {
        let p = Path::new("m.h5");
        assert_eq!(sniff_bytes(p, b"\x89HDF\r\n\x1a\n\0\0").unwrap().what, "a Keras HDF5 model (.h5)");
        assert!(sniff_bytes(Path::new("g.pbtxt"), b"node {\n  name: \"x\"\n}").unwrap().what.contains("text-format"));
        assert!(sniff_bytes(Path::new("dir/saved_model.pb"), b"\x08\x01").unwrap().what.contains("SavedModel"));
        assert_eq!(sniff_bytes(Path::new("x.pb"), b"\x0a\x05junk"), None);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(sniff_directory(dir.path()).what, "a directory");
        std::fs::write(dir.path().join("saved_model.pbtxt"), b"").unwrap();
        assert!(sniff_directory(dir.path()).what.contains("text format"));
    }
}
