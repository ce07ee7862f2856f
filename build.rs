//! Compiles the project's own `.proto` files (written by `tools/gen_protos.py` from the field
//! tables in `../shared/reference`) with prost-build. protox parses them in pure Rust, so the build
//! needs no system `protoc`.

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
    config.compile_fds(fds)?;
    Ok(())
}
