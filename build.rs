//! Compiles the project's own `.proto` files (written by `tools/gen_protos.py` from the field
//! tables in `../shared/reference`) with prost-build. protox parses them in pure Rust, so the build
//! needs no system `protoc`.

/// `NeuralNetworkLayer.layer` variants stored behind a `Box` (see `main`).
const BOXED_LAYERS: &[&str] = &[
    "uniDirectionalLSTM",
    "gru",
    "simpleRecurrent",
    "batchnorm",
    "loop",
    "branch",
    "convolution",
    "convolution3d",
    "scale",
    "layerNormalization",
    "innerProduct",
    "embedding",
    "embeddingND",
    "batchedMatmul",
    "activation",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/tensorflow.proto", "proto/savedmodel.proto", "proto/coreml.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["proto"])?;
    let mut config = prost_build::Config::new();
    // `bytes` fields decode as slices of the input buffer: a frozen graph's weights
    // (`TensorProto.tensor_content`) are not copied while the GraphDef is decoded.
    config.bytes(["."]);
    config.btree_map(["."]);
    // A `NeuralNetworkLayer` is as large as its largest `layer` variant (an LSTM's 15 inline
    // `WeightParams` made every layer 2.9 KB, so a 30,000-layer model held 88 MB of mostly
    // padding). The variants above ~300 bytes are boxed; the common small ones stay inline.
    // Likewise a TF `AttrValue` held a whole `TensorProto` inline (416 bytes), so every
    // NodeDef's attr map cost kilobytes while decoding a graph of small nodes.
    for field in ["tensor", "list"] {
        config.boxed(format!(".tensorflow.AttrValue.value.{field}"));
    }
    for field in BOXED_LAYERS {
        config.boxed(format!(".CoreML.Specification.NeuralNetworkLayer.layer.{field}"));
    }
    config.compile_fds(fds)?;
    Ok(())
}
