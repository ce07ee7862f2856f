//! Lowering: the extracted term DAG becomes Core ML `NeuralNetworkLayer`s, and the model is
//! written as a `.mlmodel`. This stage reads only the extractor's public output.

pub mod mlmodel;
