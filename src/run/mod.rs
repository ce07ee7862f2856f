//! The reference interpreter of Core ML Neural Network models: the oracle every conversion is
//! judged by, since Core ML itself does not run here.
//!
//! It owns the *meaning* of each layer, taken from the comments of Core ML's public
//! `NeuralNetwork.proto`, and nothing of our own lowering: it reads a decoded [`Model`] and
//! never looks at how it was made. Layers run in file order; blobs live in a map and are
//! dropped after their last reader. Kernels live in [`layers`], one file per family.
//!
//! Shapes: with `EXACT_ARRAY_MAPPING` (specification 4+) inputs keep their rank. With the
//! legacy `RANK5_ARRAY_MAPPING`, an input of shape `[C]` becomes `[1,1,C,1,1]` and `[C,H,W]`
//! becomes `[1,1,C,H,W]`; outputs are reshaped back to their declared shape when the element
//! counts agree. Legacy layers (convolution, pooling, batchnorm, ...) read the trailing
//! `[C,H,W]` axes of whatever rank they get and treat leading axes as batch, as the proto says.

pub mod compare;
pub mod float;
pub mod layers;
pub mod image_file;
pub mod npz;
pub mod util;
pub mod weights;

pub use float::Float;

use crate::proto::coreml::{
    model, neural_network_layer::Layer, CustomLayerParams, FeatureDescription, Model, NeuralNetworkLayer,
    NeuralNetworkPreprocessing,
};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An error inside one kernel; the interpreter adds the layer's name and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelError(pub String);

impl KernelError {
    pub fn new(msg: impl Into<String>) -> Self {
        KernelError(msg.into())
    }
}

/// `return Err(KernelError(format!(...)))`.
#[macro_export]
#[doc(hidden)]
macro_rules! kbail {
    ($($arg:tt)*) => { return Err($crate::run::KernelError(format!($($arg)*))) };
}

/// Errors of building or running an [`Interpreter`]. Each names the layer (and its kind) or
/// the feature it is about.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the model is not a Neural Network (its type is {0}); only neuralNetwork, neuralNetworkClassifier and neuralNetworkRegressor models run")]
    NotNeuralNetwork(String),
    #[error("layer {index} `{layer}` has no layer type set")]
    NoLayerType { index: usize, layer: String },
    #[error("layer `{layer}` ({kind}) reads blob `{blob}`, which no model input or earlier layer produces")]
    UndefinedBlob { layer: String, kind: &'static str, blob: String },
    #[error("model output `{0}` is produced by no layer and is no model input")]
    OutputNotProduced(String),
    #[error("no value given for model input `{0}`")]
    MissingInput(String),
    #[error("model input `{name}` has shape {got:?}, but the model declares {want:?}")]
    InputShape { name: String, got: Vec<usize>, want: Vec<i64> },
    #[error("model input `{name}` has shape {got:?}, outside the flexible shapes the model declares: {allowed}")]
    OutsideFlexibleShape { name: String, got: Vec<usize>, allowed: String },
    #[error("model input `{name}` has shape {got:?}; with the legacy rank-5 array mapping an input must have rank 1 ([C]), 3 ([C,H,W]) or 5")]
    Rank5Input { name: String, got: Vec<usize> },
    #[error("image input `{name}`: {message}")]
    ImageInput { name: String, message: String },
    #[error("layer `{layer}` ({kind}): {message}")]
    Layer { layer: String, kind: &'static str, message: String },
    #[error("layer `{layer}` is a custom layer of class `{class_name}`, and no kernel is registered for that class{hint}")]
    NoCustomKernel { layer: String, class_name: String, hint: String },
}

/// A kernel for a custom layer (`CustomLayerParams`), registered by class name.
///
/// Kernels see f64 whatever the run precision, so one implementation serves both.
pub trait CustomKernel: Send + Sync {
    /// Computes the layer's outputs, in the order of the layer's `output` list.
    fn compute(&self, params: &CustomLayerParams, inputs: &[ArrayViewD<'_, f64>]) -> Result<Vec<ArrayD<f64>>, String>;
}

/// Arithmetic precision of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// f32 everywhere, like Core ML's CPU path.
    #[default]
    F32,
    /// f64 everywhere: tells a kernel bug from round-off.
    F64,
}

/// Options of an [`Interpreter`].
#[derive(Default)]
pub struct RunOptions {
    pub precision: Precision,
    /// Custom-layer kernels by `className`.
    pub custom_kernels: BTreeMap<String, Box<dyn CustomKernel>>,
    /// Inner blobs to keep and return besides the model outputs (probes).
    pub keep_blobs: BTreeSet<String>,
    /// Said in the error when a custom layer has no kernel (the CLI explains that it has none
    /// compiled in).
    pub missing_kernel_hint: String,
    /// The largest tensor one layer may allocate, in bytes at the run's precision (`None`:
    /// [`util::MAX_ELEMENTS`] elements). Checked before allocating, so a model asking for more
    /// is refused with the layer's name instead of aborting the process.
    pub max_tensor_bytes: Option<u64>,
    /// The most loop iterations a run may execute, all loops together (nested ones multiply)
    /// (`None`: [`MAX_LOOP_ITERATIONS`]). A loop whose condition never turns false is stopped
    /// with an error naming it; a fuzzer lowers the bound to keep each input fast.
    pub max_loop_iterations: Option<u64>,
}

/// What [`Interpreter::run_traced`] reports after each layer.
#[derive(Debug, Clone)]
pub struct TraceEvent<'a> {
    pub index: usize,
    pub layer: &'a str,
    pub kind: &'static str,
    /// Per output blob: name, shape, sum of the values and sum of their magnitudes (f64).
    pub outputs: Vec<(String, Vec<usize>, f64, f64)>,
}

/// A validated model, ready to run on inputs.
pub struct Interpreter<'m> {
    layers: &'m [NeuralNetworkLayer],
    rank5_mapping: bool,
    rank4_images: bool,
    preprocessing: &'m [NeuralNetworkPreprocessing],
    inputs: &'m [FeatureDescription],
    /// Model outputs that are arrays, and a classifier's probabilities (its dictionary output,
    /// returned as the array of the probabilities blob, in label order). The predicted label
    /// is not a blob: [`Interpreter::predicted_label`] derives it.
    outputs: Vec<&'m FeatureDescription>,
    /// A classifier's probabilities output and the blob that holds them
    /// (`labelProbabilityLayerName`; empty means the output's own name).
    probabilities: Option<(&'m str, &'m str)>,
    options: RunOptions,
    /// For each layer, the blobs whose last reader it is (freed after it runs).
    free_after: Vec<Vec<String>>,
    /// Loop iterations run so far by the current run, all loops and nesting levels together:
    /// nested loops multiply, so a per-loop limit alone does not bound a run.
    loop_iterations: std::sync::atomic::AtomicU64,
    /// Whether the current run reports each layer (`run_traced`): the per-output sums of a
    /// [`TraceEvent`] are only computed then (in a loop they cost as much as the layers).
    tracing: std::sync::atomic::AtomicBool,
}

/// The Core ML proto name of a layer kind (`"innerProduct"`, `"softmaxND"`...).
pub fn layer_kind(layer: &Layer) -> &'static str {
    layers::kind_name(layer)
}

impl<'m> Interpreter<'m> {
    /// Checks that every layer's inputs are produced before use, that model outputs are
    /// produced, and that every layer kind is supported.
    pub fn new(model: &'m Model, options: RunOptions) -> Result<Self, RunError> {
        let (layers, mapping, image_mapping, preprocessing) = match &model.r#type {
            Some(model::Type::NeuralNetwork(nn)) => {
                (&nn.layers[..], nn.array_input_shape_mapping, nn.image_input_shape_mapping, &nn.preprocessing[..])
            }
            Some(model::Type::NeuralNetworkClassifier(nn)) => {
                (&nn.layers[..], nn.array_input_shape_mapping, nn.image_input_shape_mapping, &nn.preprocessing[..])
            }
            Some(model::Type::NeuralNetworkRegressor(nn)) => {
                (&nn.layers[..], nn.array_input_shape_mapping, nn.image_input_shape_mapping, &nn.preprocessing[..])
            }
            Some(other) => {
                let name = match other {
                    model::Type::PipelineClassifier(_) => "pipelineClassifier",
                    model::Type::PipelineRegressor(_) => "pipelineRegressor",
                    model::Type::Pipeline(_) => "pipeline",
                    model::Type::SerializedModel(_) => "serializedModel",
                    _ => "another model type",
                };
                return Err(RunError::NotNeuralNetwork(name.into()));
            }
            None => return Err(RunError::NotNeuralNetwork("unset".into())),
        };
        let (inputs, outputs) = match &model.description {
            Some(d) => (&d.input[..], &d.output[..]),
            None => (&[][..], &[][..]),
        };
        let mut defined: BTreeSet<&str> = inputs.iter().map(|f| f.name.as_str()).collect();
        let mut last_use: HashMap<&str, usize> = HashMap::new();
        for (i, l) in layers.iter().enumerate() {
            // A control-flow layer reads every blob its nested networks read (they see the
            // whole model's blobs), so those live at least until it has run.
            validate(l, i, &mut defined, &mut |b| {
                last_use.insert(b, i);
            })?;
        }
        let probabilities = match (&model.r#type, &model.description) {
            (Some(model::Type::NeuralNetworkClassifier(c)), Some(d)) if !d.predicted_probabilities_name.is_empty() => {
                let blob = if c.label_probability_layer_name.is_empty() { &d.predicted_probabilities_name } else { &c.label_probability_layer_name };
                Some((d.predicted_probabilities_name.as_str(), blob.as_str()))
            }
            _ => None,
        };
        let blob_of = |o: &'m FeatureDescription| match probabilities {
            Some((name, blob)) if name == o.name => blob,
            _ => o.name.as_str(),
        };
        let outputs: Vec<&FeatureDescription> =
            outputs.iter().filter(|o| is_array_feature(o) || probabilities.is_some_and(|(p, _)| p == o.name)).collect();
        for o in &outputs {
            if !defined.contains(blob_of(o)) {
                return Err(RunError::OutputNotProduced(blob_of(o).to_string()));
            }
        }
        let keep: BTreeSet<&str> =
            outputs.iter().map(|o| blob_of(o)).chain(options.keep_blobs.iter().map(|s| s.as_str())).collect();
        let mut free_after = vec![Vec::new(); layers.len()];
        for (blob, i) in last_use {
            if !keep.contains(blob) {
                free_after[i].push(blob.to_string());
            }
        }
        for f in &mut free_after {
            f.sort();
        }
        Ok(Interpreter {
            layers,
            rank5_mapping: mapping == 0,
            rank4_images: image_mapping == 1,
            preprocessing,
            inputs,
            outputs,
            probabilities,
            options,
            free_after,
            loop_iterations: Default::default(),
            tracing: Default::default(),
        })
    }

    /// Names of the model inputs, in declaration order.
    pub fn input_names(&self) -> Vec<&str> {
        self.inputs.iter().map(|f| f.name.as_str()).collect()
    }

    /// Names of the model outputs, in declaration order.
    pub fn output_names(&self) -> Vec<&str> {
        self.outputs.iter().map(|f| f.name.as_str()).collect()
    }

    /// For a classifier: the predicted-label output's name and the label of the highest
    /// probability in `outputs` (as [`Interpreter::run`] returned them), as Core ML predicts
    /// it (the first of equal maxima). `None` for other models.
    pub fn predicted_label(&self, model: &Model, outputs: &BTreeMap<String, ArrayD<f32>>) -> Option<(String, String)> {
        let (name, _) = self.probabilities?;
        let labels = crate::lower::classifier::ClassLabels::of_model(model)?;
        let probs = outputs.get(name)?;
        let mut best: Option<(usize, f32)> = None;
        for (i, &p) in probs.iter().enumerate() {
            if best.map_or(true, |(_, b)| p > b) {
                best = Some((i, p));
            }
        }
        let feature = model.description.as_ref().map(|d| d.predicted_feature_name.clone()).unwrap_or_default();
        Some((feature, labels.get(best?.0)?))
    }

    /// Runs the model. Returns every model output (and every kept blob that was produced).
    pub fn run(&self, inputs: BTreeMap<String, ArrayD<f32>>) -> Result<BTreeMap<String, ArrayD<f32>>, RunError> {
        self.start(inputs, &mut |_| {}, false)
    }

    /// [`Interpreter::run`], calling `trace` after each layer.
    pub fn run_traced(
        &self,
        inputs: BTreeMap<String, ArrayD<f32>>,
        trace: &mut dyn FnMut(&TraceEvent<'_>),
    ) -> Result<BTreeMap<String, ArrayD<f32>>, RunError> {
        self.start(inputs, trace, true)
    }

    fn start(
        &self,
        inputs: BTreeMap<String, ArrayD<f32>>,
        trace: &mut dyn FnMut(&TraceEvent<'_>),
        tracing: bool,
    ) -> Result<BTreeMap<String, ArrayD<f32>>, RunError> {
        self.loop_iterations.store(0, std::sync::atomic::Ordering::Relaxed);
        self.tracing.store(tracing, std::sync::atomic::Ordering::Relaxed);
        match self.options.precision {
            Precision::F32 => self.exec::<f32>(inputs, trace),
            Precision::F64 => self.exec::<f64>(inputs, trace),
        }
    }

    fn feed<T: Float>(&self, inputs: BTreeMap<String, ArrayD<f32>>) -> Result<HashMap<String, ArrayD<T>>, RunError> {
        let mut given = inputs;
        let mut blobs = HashMap::new();
        for f in self.inputs {
            let Some(a) = given.remove(&f.name) else {
                return Err(RunError::MissingInput(f.name.clone()));
            };
            if let Some(color) = image_color_space(f) {
                let a = self.image_input(f, a, color)?;
                blobs.insert(f.name.clone(), a.mapv(T::from_f32));
                continue;
            }
            let declared = declared_shape(f);
            if let Some(want) = &declared {
                let got = a.shape();
                if !want.is_empty() && !has_flexible_shape(f) && (got.len() != want.len() || got.iter().zip(want).any(|(&g, &w)| g as i64 != w)) {
                    return Err(RunError::InputShape { name: f.name.clone(), got: got.to_vec(), want: want.clone() });
                }
                // A flexible input takes any shape its ranges or enumerated shapes allow
                // (with the legacy rank-5 mapping the fed rank may differ: not checked).
                if let Some(spec) = flexible_spec(f).filter(|_| !self.rank5_mapping) {
                    if !spec.accepts(got) {
                        return Err(RunError::OutsideFlexibleShape { name: f.name.clone(), got: got.to_vec(), allowed: spec.to_string() });
                    }
                }
            }
            let a = if self.rank5_mapping { to_rank5(&f.name, a)? } else { a };
            blobs.insert(f.name.clone(), a.mapv(T::from_f32));
        }
        Ok(blobs)
    }

    fn exec<T: Float>(
        &self,
        inputs: BTreeMap<String, ArrayD<f32>>,
        trace: &mut dyn FnMut(&TraceEvent<'_>),
    ) -> Result<BTreeMap<String, ArrayD<f32>>, RunError> {
        let limit = match self.options.max_tensor_bytes {
            Some(bytes) => u128::from(bytes) / std::mem::size_of::<T>() as u128,
            None => util::MAX_ELEMENTS,
        };
        let _limit = util::ElementLimit::set(limit);
        let mut blobs = self.feed::<T>(inputs)?;
        self.run_layers(self.layers, &mut blobs, Some(&self.free_after), trace)?;
        let mut result = BTreeMap::new();
        for f in &self.outputs {
            let blob = match self.probabilities {
                Some((name, blob)) if name == f.name => blob,
                _ => f.name.as_str(),
            };
            let Some(a) = blobs.remove(blob) else {
                return Err(RunError::OutputNotProduced(blob.to_string()));
            };
            let mut a = a.mapv(|v| v.to_f64() as f32);
            if self.rank5_mapping {
                if let Some(shape) = declared_shape(f) {
                    let shape: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
                    if !shape.is_empty() && shape.iter().product::<usize>() == a.len() {
                        if let Ok(r) = a.clone().into_shape_with_order(IxDyn(&shape)) {
                            a = r;
                        }
                    }
                }
            }
            result.insert(f.name.clone(), a);
        }
        for k in &self.options.keep_blobs {
            if let Some(a) = blobs.get(k) {
                result.entry(k.clone()).or_insert_with(|| a.mapv(|v| v.to_f64() as f32));
            }
        }
        Ok(result)
    }

    /// Runs `layers` over `blobs` (a nested network shares the model's blobs: Core ML's
    /// control-flow layers read and overwrite blobs of the enclosing scope). `free` frees
    /// dead blobs after each top-level layer; nested networks free nothing. Returns the
    /// `loopBreak`/`loopContinue` signal that stopped the list, if any.
    fn run_layers<T: Float>(
        &self,
        layers: &[NeuralNetworkLayer],
        blobs: &mut HashMap<String, ArrayD<T>>,
        free: Option<&[Vec<String>]>,
        trace: &mut dyn FnMut(&TraceEvent<'_>),
    ) -> Result<Flow, RunError> {
        for (i, l) in layers.iter().enumerate() {
            // `new` checked that every layer has a type and its inputs exist.
            let Some(kind) = &l.layer else { continue };
            let kind_name = layer_kind(kind);
            match kind {
                Layer::LoopBreak(_) => return Ok(Flow::Break),
                Layer::LoopContinue(_) => return Ok(Flow::Continue),
                Layer::Branch(p) => {
                    let take_if = self.condition(l, kind_name, l.input.first(), blobs)?;
                    let net = if take_if { p.if_branch.as_ref() } else { p.else_branch.as_ref() };
                    if let Some(net) = net {
                        let flow = self.run_layers(&net.layers, blobs, None, trace)?;
                        if flow != Flow::Normal {
                            return Ok(flow);
                        }
                    }
                }
                Layer::Loop(p) => self.run_loop(l, kind_name, p, blobs, trace)?,
                _ => {
                    let outs = {
                        let mut ins: Vec<&ArrayD<T>> = Vec::with_capacity(l.input.len());
                        for b in &l.input {
                            match blobs.get(b) {
                                Some(a) => ins.push(a),
                                None => {
                                    return Err(RunError::UndefinedBlob { layer: l.name.clone(), kind: kind_name, blob: b.clone() })
                                }
                            }
                        }
                        match kind {
                            Layer::Custom(p) => self.custom(l, p, &ins)?,
                            _ => layers::execute(l, kind, &ins).map_err(|e| RunError::Layer {
                                layer: l.name.clone(),
                                kind: kind_name,
                                message: e.0,
                            })?,
                        }
                    };
                    if outs.len() != l.output.len() {
                        return Err(RunError::Layer {
                            layer: l.name.clone(),
                            kind: kind_name,
                            message: format!("produced {} outputs, but the layer names {}", outs.len(), l.output.len()),
                        });
                    }
                    let tracing = self.tracing.load(std::sync::atomic::Ordering::Relaxed);
                    let mut event = TraceEvent { index: i, layer: &l.name, kind: kind_name, outputs: Vec::new() };
                    for (name, a) in l.output.iter().zip(outs) {
                        // Kernels read their inputs in row-major order (`into_shape_with_order`,
                        // slices); ndarray's concatenate and stack keep their inputs' memory
                        // layout, so a blob is stored in standard layout (a copy only when not).
                        let a = if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() };
                        if tracing {
                            let (sum, abs) = a.iter().fold((0.0, 0.0), |(s, m), &v| (s + v.to_f64(), m + v.to_f64().abs()));
                            event.outputs.push((name.clone(), a.shape().to_vec(), sum, abs));
                        }
                        blobs.insert(name.clone(), a);
                    }
                    if tracing {
                        trace(&event);
                    }
                }
            }
            if let Some(free) = free {
                for b in &free[i] {
                    blobs.remove(b);
                }
            }
        }
        Ok(Flow::Normal)
    }

    /// The truth of a scalar condition blob: non-zero is true.
    fn condition<T: Float>(
        &self,
        l: &NeuralNetworkLayer,
        kind: &'static str,
        blob: Option<&String>,
        blobs: &HashMap<String, ArrayD<T>>,
    ) -> Result<bool, RunError> {
        let err = |message: String| RunError::Layer { layer: l.name.clone(), kind, message };
        let name = blob.ok_or_else(|| err("has no condition input".into()))?;
        let a = blobs.get(name).ok_or_else(|| RunError::UndefinedBlob { layer: l.name.clone(), kind, blob: name.clone() })?;
        if a.len() != 1 {
            return Err(err(format!("condition `{name}` has shape {:?}; it must hold one value", a.shape())));
        }
        Ok(a.iter().next().is_some_and(|v| v.to_f64() != 0.0))
    }

    /// `LoopLayerParams`, as its proto comment gives it: without a condition network, a for
    /// loop of `maxLoopIterations` (or the layer's scalar input); with one, a while loop on
    /// `conditionVar`, re-evaluated after each iteration, bounded by the count when positive.
    fn run_loop<T: Float>(
        &self,
        l: &NeuralNetworkLayer,
        kind: &'static str,
        p: &crate::proto::coreml::LoopLayerParams,
        blobs: &mut HashMap<String, ArrayD<T>>,
        trace: &mut dyn FnMut(&TraceEvent<'_>),
    ) -> Result<(), RunError> {
        let err = |message: String| RunError::Layer { layer: l.name.clone(), kind, message };
        let max = match l.input.first() {
            Some(b) => {
                let a = blobs.get(b).ok_or_else(|| RunError::UndefinedBlob { layer: l.name.clone(), kind, blob: b.clone() })?;
                let v = a.iter().next().map(|v| v.to_f64()).ok_or_else(|| err(format!("iteration count `{b}` is empty")))?;
                if v < 0.0 || v.fract() != 0.0 {
                    return Err(err(format!("iteration count `{b}` is {v}, not a non-negative integer")));
                }
                Some(v as u64)
            }
            None if p.max_loop_iterations > 0 => Some(p.max_loop_iterations),
            None => None,
        };
        let cond = p.condition_network.as_ref().filter(|n| !n.layers.is_empty());
        if cond.is_none() && max.is_none() {
            return Err(err("has neither a condition network nor an iteration count".into()));
        }
        let mut done: u64 = 0;
        loop {
            if let Some(c) = cond {
                self.run_layers(&c.layers, blobs, None, trace)?;
                if !self.condition(l, kind, Some(&p.condition_var), blobs)? {
                    break;
                }
            }
            if max.is_some_and(|m| done >= m) {
                break;
            }
            let limit = self.options.max_loop_iterations.unwrap_or(MAX_LOOP_ITERATIONS);
            if done >= limit {
                return Err(err(format!("ran {done} iterations without its condition turning false (the limit; --max-loop-iterations)")));
            }
            let total = self.loop_iterations.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if total > limit {
                return Err(err(format!(
                    "the run's loops have run {limit} iterations in all (nested loops multiply); stopped (--max-loop-iterations)"
                )));
            }
            if let Some(body) = &p.body_network {
                if self.run_layers(&body.layers, blobs, None, trace)? == Flow::Break {
                    break;
                }
            }
            done += 1;
        }
        Ok(())
    }

    /// An image input given as `[C,H,W]` or `[1,C,H,W]` pixel values (C = 3 in the model's
    /// color order, or 1 for grayscale): applies the network's preprocessing for it (scaler:
    /// `channelScale * x + bias of the channel`; mean image: `x - mean`), then maps it to
    /// `[1,1,C,H,W]` (RANK5_IMAGE_MAPPING) or `[1,C,H,W]` (RANK4_IMAGE_MAPPING).
    fn image_input(&self, f: &FeatureDescription, a: ArrayD<f32>, color: i32) -> Result<ArrayD<f32>, RunError> {
        use crate::proto::coreml::image_feature_type::ColorSpace;
        use crate::proto::coreml::neural_network_preprocessing::Preprocessor;
        let bad = |why: String| RunError::ImageInput { name: f.name.clone(), message: why };
        let s = a.shape().to_vec();
        let img = match s.len() {
            3 => [s[0], s[1], s[2]],
            4 if s[0] == 1 => [s[1], s[2], s[3]],
            _ => return Err(bad(format!("expected [C,H,W], [H,W,C] or with a batch of 1, got {s:?}"))),
        };
        let a = a.into_shape_with_order(IxDyn(&img)).map_err(|e| bad(e.to_string()))?;
        // The declared size and channel count decide the layout: CHW as Core ML feeds the
        // network, or HWC as an image file holds its pixels (transposed here).
        let declared = match f.r#type.as_ref().and_then(|t| t.r#type.as_ref()) {
            Some(crate::proto::coreml::feature_type::Type::ImageType(i)) if i.width > 0 && i.height > 0 => {
                let c = if color == ColorSpace::Grayscale as i32 || color == ColorSpace::GrayscaleFloat16 as i32 { 1 } else { 3 };
                Some((c, i.height as usize, i.width as usize))
            }
            _ => None,
        };
        let mut a = match declared {
            None => a,
            Some((c, h, w)) if img == [c, h, w] => a,
            Some((c, h, w)) if img == [h, w, c] => a.permuted_axes(IxDyn(&[2, 0, 1])).as_standard_layout().into_owned(),
            Some((c, h, w)) => return Err(bad(format!("got shape {s:?}, the image is {w}x{h} with {c} channel(s): expected [{c},{h},{w}] or [{h},{w},{c}]"))),
        };
        let chw = [a.shape()[0], a.shape()[1], a.shape()[2]];
        for p in self.preprocessing.iter().filter(|p| p.feature_name == f.name || (p.feature_name.is_empty() && self.inputs.len() == 1)) {
            match &p.preprocessor {
                Some(Preprocessor::Scaler(sc)) => {
                    let biases: Vec<f32> = if color == ColorSpace::Bgr as i32 {
                        vec![sc.blue_bias, sc.green_bias, sc.red_bias]
                    } else if color == ColorSpace::Rgb as i32 {
                        vec![sc.red_bias, sc.green_bias, sc.blue_bias]
                    } else {
                        vec![sc.gray_bias]
                    };
                    if biases.len() != chw[0] {
                        return Err(bad(format!("{} channels, but the color space has {}", chw[0], biases.len())));
                    }
                    for (c, mut plane) in a.axis_iter_mut(ndarray::Axis(0)).enumerate() {
                        let b = biases[c];
                        plane.mapv_inplace(|v| sc.channel_scale * v + b);
                    }
                }
                Some(Preprocessor::MeanImage(m)) => {
                    if m.mean_image.len() != a.len() {
                        return Err(bad(format!("mean image has {} values, the image {}", m.mean_image.len(), a.len())));
                    }
                    for (v, m) in a.iter_mut().zip(&m.mean_image) {
                        *v -= m;
                    }
                }
                None => {}
            }
        }
        let shape: Vec<usize> = if self.rank4_images { vec![1, chw[0], chw[1], chw[2]] } else { vec![1, 1, chw[0], chw[1], chw[2]] };
        a.into_shape_with_order(IxDyn(&shape)).map_err(|e| bad(e.to_string()))
    }

    fn custom<T: Float>(
        &self,
        l: &NeuralNetworkLayer,
        p: &CustomLayerParams,
        ins: &[&ArrayD<T>],
    ) -> Result<Vec<ArrayD<T>>, RunError> {
        let Some(kernel) = self.options.custom_kernels.get(&p.class_name) else {
            return Err(RunError::NoCustomKernel {
                layer: l.name.clone(),
                class_name: p.class_name.clone(),
                hint: self.options.missing_kernel_hint.clone(),
            });
        };
        let owned: Vec<ArrayD<f64>> = ins.iter().map(|a| a.mapv(|v| v.to_f64())).collect();
        let views: Vec<ArrayViewD<'_, f64>> = owned.iter().map(|a| a.view()).collect();
        let outs = kernel.compute(p, &views).map_err(|message| RunError::Layer {
            layer: l.name.clone(),
            kind: "custom",
            message: format!("kernel for class `{}`: {message}", p.class_name),
        })?;
        Ok(outs.into_iter().map(|a| a.mapv(T::from_f64)).collect())
    }
}

/// How a list of layers ended: normally, or at a `loopBreak`/`loopContinue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// A loop whose condition never turns false is a model bug; the interpreter stops it, and
/// stops a run whose loops (nested ones multiplying) reach this many iterations in all, unless
/// [`RunOptions::max_loop_iterations`] says otherwise.
pub const MAX_LOOP_ITERATIONS: u64 = 1_000_000;

/// Checks one layer (and the layers of its nested networks) against the blobs defined so
/// far, defines its outputs, and reports every blob it reads to `read`.
fn validate<'a>(
    l: &'a NeuralNetworkLayer,
    index: usize,
    defined: &mut BTreeSet<&'a str>,
    read: &mut dyn FnMut(&'a str),
) -> Result<(), RunError> {
    let Some(kind) = &l.layer else {
        return Err(RunError::NoLayerType { index, layer: l.name.clone() });
    };
    let kind_name = layer_kind(kind);
    for b in &l.input {
        if !defined.contains(b.as_str()) {
            return Err(RunError::UndefinedBlob { layer: l.name.clone(), kind: kind_name, blob: b.clone() });
        }
        read(b);
    }
    let nested: Vec<&'a crate::proto::coreml::NeuralNetwork> = match kind {
        Layer::Branch(p) => p.if_branch.iter().chain(&p.else_branch).collect(),
        Layer::Loop(p) => p.condition_network.iter().chain(&p.body_network).collect(),
        _ => vec![],
    };
    for net in nested {
        for (j, inner) in net.layers.iter().enumerate() {
            validate(inner, j, defined, read)?;
        }
    }
    if let Layer::Loop(p) = kind {
        if p.condition_network.as_ref().is_some_and(|n| !n.layers.is_empty()) && !defined.contains(p.condition_var.as_str()) {
            return Err(RunError::UndefinedBlob { layer: l.name.clone(), kind: kind_name, blob: p.condition_var.clone() });
        }
    }
    for b in &l.output {
        defined.insert(b);
    }
    Ok(())
}

fn declared_shape(f: &FeatureDescription) -> Option<Vec<i64>> {
    use crate::proto::coreml::feature_type::Type;
    match f.r#type.as_ref()?.r#type.as_ref()? {
        Type::MultiArrayType(a) => Some(a.shape.clone()),
        _ => None,
    }
}

/// The color space of an image input, or `None` for other features.
fn image_color_space(f: &FeatureDescription) -> Option<i32> {
    use crate::proto::coreml::feature_type::Type;
    match f.r#type.as_ref()?.r#type.as_ref()? {
        Type::ImageType(i) => Some(i.color_space),
        _ => None,
    }
}

/// Array outputs (and untyped ones) are blobs; string, int64, dictionary outputs of a
/// classifier are not.
fn is_array_feature(f: &FeatureDescription) -> bool {
    use crate::proto::coreml::feature_type::Type;
    matches!(f.r#type.as_ref().and_then(|t| t.r#type.as_ref()), None | Some(Type::MultiArrayType(_)) | Some(Type::DoubleType(_)))
}

/// The declared flexibility of a multi-array input, when it has one.
fn flexible_spec(f: &FeatureDescription) -> Option<crate::lower::flexible::InputShapeSpec> {
    use crate::proto::coreml::feature_type::Type;
    match f.r#type.as_ref()?.r#type.as_ref()? {
        Type::MultiArrayType(a) if a.shape_flexibility.is_some() => Some(crate::lower::flexible::InputShapeSpec::of_feature(a)),
        _ => None,
    }
}

fn has_flexible_shape(f: &FeatureDescription) -> bool {
    use crate::proto::coreml::feature_type::Type;
    matches!(
        f.r#type.as_ref().and_then(|t| t.r#type.as_ref()),
        Some(Type::MultiArrayType(a)) if a.shape_flexibility.is_some()
    )
}

/// Legacy rank-5 input mapping: `[C]` → `[1,1,C,1,1]`, `[C,H,W]` → `[1,1,C,H,W]`.
fn to_rank5(name: &str, a: ArrayD<f32>) -> Result<ArrayD<f32>, RunError> {
    let s = a.shape().to_vec();
    let shape = match s.len() {
        1 => vec![1, 1, s[0], 1, 1],
        3 => vec![1, 1, s[0], s[1], s[2]],
        5 => s.clone(),
        _ => return Err(RunError::Rank5Input { name: name.into(), got: s }),
    };
    let got = a.shape().to_vec();
    a.into_shape_with_order(IxDyn(&shape)).map_err(|_| RunError::Rank5Input { name: name.into(), got })
}

/// Finds the array for feature `name` in a map keyed by TensorFlow tensor names: `name`
/// itself, else `name:0`.
pub fn lookup<'a, V>(map: &'a BTreeMap<String, V>, name: &str) -> Option<(&'a String, &'a V)> {
    map.get_key_value(name).or_else(|| map.get_key_value(&format!("{name}:0")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::{
        feature_type, neural_network_layer::Layer, ActivationParams, ActivationReLu, ArrayFeatureType, FeatureType,
        InnerProductLayerParams, ModelDescription, NeuralNetwork, WeightParams,
    };

    fn feature(name: &str, shape: &[i64]) -> FeatureDescription {
        FeatureDescription {
            name: name.into(),
            r#type: Some(FeatureType {
                r#type: Some(feature_type::Type::MultiArrayType(ArrayFeatureType { shape: shape.to_vec(), ..Default::default() })),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn relu(name: &str, input: &str, output: &str) -> NeuralNetworkLayer {
        NeuralNetworkLayer {
            name: name.into(),
            input: vec![input.into()],
            output: vec![output.into()],
            layer: Some(Layer::Activation(Box::new(ActivationParams {
                nonlinearity_type: Some(crate::proto::coreml::activation_params::NonlinearityType::ReLu(ActivationReLu {})),
            }))),
            ..Default::default()
        }
    }

    fn model(layers: Vec<NeuralNetworkLayer>, outputs: &[&str], mapping: i32) -> Model {
        Model {
            specification_version: 4,
            description: Some(ModelDescription {
                input: vec![feature("x", &[2])],
                output: outputs.iter().map(|o| feature(o, &[])).collect(),
                ..Default::default()
            }),
            r#type: Some(model::Type::NeuralNetwork(NeuralNetwork { layers, array_input_shape_mapping: mapping, ..Default::default() })),
            ..Default::default()
        }
    }

    fn input(v: &[f32]) -> BTreeMap<String, ArrayD<f32>> {
        let mut m = BTreeMap::new();
        m.insert("x".to_string(), ndarray::Array1::from(v.to_vec()).into_dyn());
        m
    }

    #[test]
    fn runs_layers_in_order_and_frees_nothing_it_returns() {
        // relu(relu(x)) with the inner blob kept as a probe: [-1, 2] -> [0, 2].
        let m = model(vec![relu("a", "x", "h"), relu("b", "h", "y")], &["y"], 1);
        let opts = RunOptions { keep_blobs: ["h".to_string()].into(), ..Default::default() };
        let out = Interpreter::new(&m, opts).unwrap().run(input(&[-1.0, 2.0])).unwrap();
        assert_eq!(out["y"].as_slice().unwrap(), &[0.0, 2.0]);
        assert_eq!(out["h"].as_slice().unwrap(), &[0.0, 2.0]);
    }

    #[test]
    fn validation_names_the_layer_and_the_blob() {
        let m = model(vec![relu("a", "nowhere", "y")], &["y"], 1);
        let err = Interpreter::new(&m, RunOptions::default()).err().unwrap().to_string();
        assert_eq!(err, "layer `a` (activation) reads blob `nowhere`, which no model input or earlier layer produces");
        let m = model(vec![relu("a", "x", "h")], &["y"], 1);
        let err = Interpreter::new(&m, RunOptions::default()).err().unwrap().to_string();
        assert_eq!(err, "model output `y` is produced by no layer and is no model input");
    }

    #[test]
    fn a_layer_without_kind_is_named_at_validation() {
        let mut l = relu("kindless", "x", "y");
        l.layer = None;
        let err = Interpreter::new(&model(vec![l], &["y"], 1), RunOptions::default()).err().unwrap();
        assert!(matches!(&err, RunError::NoLayerType { index: 0, layer } if layer == "kindless"), "{err}");
    }

    #[test]
    fn kernel_errors_name_layer_and_kind_and_quantized_weights_are_refused() {
        let l = NeuralNetworkLayer {
            name: "fc".into(),
            input: vec!["x".into()],
            output: vec!["y".into()],
            layer: Some(Layer::InnerProduct(Box::new(InnerProductLayerParams {
                input_channels: 2,
                output_channels: 1,
                weights: Some(WeightParams {
                    raw_value: vec![1, 2].into(),
                    quantization: Some(Default::default()),
                    ..Default::default()
                }),
                ..Default::default()
            }))),
            ..Default::default()
        };
        let err = Interpreter::new(&model(vec![l], &["y"], 1), RunOptions::default()).unwrap().run(input(&[1.0, 2.0]));
        let err = err.unwrap_err().to_string();
        assert!(err.starts_with("layer `fc` (innerProduct): weights: quantized weights are not supported"), "{err}");
    }

    /// Layers whose output size comes from parameters are refused past `util::MAX_ELEMENTS`
    /// with the layer named, instead of aborting on a 10^13-byte allocation.
    #[test]
    fn huge_outputs_are_refused_before_allocating() {
        use crate::proto::coreml::{FillStaticLayerParams, RangeStaticLayerParams, TileLayerParams, UpsampleLayerParams};
        let layer = |name: &str, l: Layer| NeuralNetworkLayer { name: name.into(), input: vec!["x".into()], output: vec!["y".into()], layer: Some(l), ..Default::default() };
        let cases = [
            (NeuralNetworkLayer { input: vec![], ..layer("fill", Layer::FillStatic(FillStaticLayerParams { value: 1.0, target_shape: vec![100_000, 100_000, 1_000] })) }, "fillStatic"),
            (layer("tile", Layer::Tile(TileLayerParams { reps: vec![1 << 40] })), "tile"),
            (NeuralNetworkLayer { input: vec![], ..layer("range", Layer::RangeStatic(RangeStaticLayerParams { end_value: 1e15, start_value: 0.0, step_size_value: 1.0 })) }, "rangeStatic"),
        ];
        for (l, kind) in cases {
            let name = l.name.clone();
            let err = Interpreter::new(&model(vec![l], &["y"], 1), RunOptions::default()).unwrap().run(input(&[1.0, 2.0])).unwrap_err().to_string();
            assert!(err.starts_with(&format!("layer `{name}` ({kind}): ")) && err.contains("more than the interpreter's limit"), "{err}");
        }
        // upsample by 2^32 along H and W of a [1, 1, 2] input (C, H, W).
        let mut m = model(vec![layer("up", Layer::Upsample(UpsampleLayerParams { scaling_factor: vec![1 << 32, 1 << 32], ..Default::default() }))], &["y"], 1);
        if let Some(d) = &mut m.description {
            d.input[0] = feature("x", &[1, 1, 2]);
        }
        let x: BTreeMap<String, ArrayD<f32>> = [("x".to_string(), ndarray::Array3::<f32>::zeros((1, 1, 2)).into_dyn())].into();
        let err = Interpreter::new(&m, RunOptions::default()).unwrap().run(x).unwrap_err().to_string();
        assert!(err.starts_with("layer `up` (upsample): ") && err.contains("more than the interpreter's limit"), "{err}");
    }

    /// `max_tensor_bytes` lowers the limit for one run (a tile to 4,000 f32 values is 16,000
    /// bytes) and is counted at the run's precision; the thread's limit is restored after.
    #[test]
    fn max_tensor_bytes_bounds_every_checked_allocation() {
        use crate::proto::coreml::TileLayerParams;
        let tile = NeuralNetworkLayer { name: "tile".into(), input: vec!["x".into()], output: vec!["y".into()], layer: Some(Layer::Tile(TileLayerParams { reps: vec![2000] })), ..Default::default() };
        let m = model(vec![tile], &["y"], 1);
        let run = |bytes: u64, precision: Precision| {
            let options = RunOptions { max_tensor_bytes: Some(bytes), precision, ..Default::default() };
            Interpreter::new(&m, options).unwrap().run(input(&[1.0, 2.0]))
        };
        assert_eq!(run(16_000, Precision::F32).unwrap()["y"].len(), 4000);
        let err = run(15_999, Precision::F32).unwrap_err().to_string();
        assert!(err.starts_with("layer `tile` (tile): ") && err.contains("limit of 3999"), "{err}");
        assert!(run(16_000, Precision::F64).is_err());
        assert_eq!(util::element_limit(), util::MAX_ELEMENTS);
    }

    #[test]
    fn rank5_mapping_expands_inputs_and_restores_declared_output_shape() {
        // [C] = [2] is fed as [1,1,2,1,1]; the output is declared [2] and reshaped back.
        let mut m = model(vec![relu("a", "x", "y")], &["y"], 0);
        if let Some(d) = &mut m.description {
            d.output[0] = feature("y", &[2]);
        }
        let out = Interpreter::new(&m, RunOptions::default()).unwrap().run(input(&[-3.0, 4.0])).unwrap();
        assert_eq!(out["y"].shape(), &[2]);
        let err = Interpreter::new(&m, RunOptions::default()).unwrap().run({
            let mut i = BTreeMap::new();
            i.insert("x".to_string(), ndarray::Array2::<f32>::zeros((1, 2)).into_dyn());
            i
        });
        assert!(err.is_err());
    }

    #[test]
    fn image_input_gets_its_scaler_and_classifier_labels_are_skipped() {
        use crate::proto::coreml::{
            neural_network_preprocessing::Preprocessor, ImageFeatureType, NeuralNetworkClassifier, NeuralNetworkImageScaler,
        };
        let image = FeatureDescription {
            name: "img".into(),
            r#type: Some(FeatureType {
                r#type: Some(feature_type::Type::ImageType(ImageFeatureType { width: 1, height: 1, color_space: 20, ..Default::default() })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let label = FeatureDescription {
            name: "label".into(),
            r#type: Some(FeatureType { r#type: Some(feature_type::Type::StringType(Default::default())), ..Default::default() }),
            ..Default::default()
        };
        let m = Model {
            specification_version: 4,
            description: Some(ModelDescription { input: vec![image], output: vec![label, feature("y", &[])], ..Default::default() }),
            r#type: Some(model::Type::NeuralNetworkClassifier(NeuralNetworkClassifier {
                layers: vec![relu("a", "img", "y")],
                preprocessing: vec![NeuralNetworkPreprocessing {
                    feature_name: "img".into(),
                    preprocessor: Some(Preprocessor::Scaler(NeuralNetworkImageScaler {
                        channel_scale: 2.0,
                        red_bias: 1.0,
                        green_bias: -10.0,
                        blue_bias: 3.0,
                        gray_bias: 0.0,
                    })),
                }],
                image_input_shape_mapping: 1,
                ..Default::default()
            })),
            ..Default::default()
        };
        let interp = Interpreter::new(&m, RunOptions::default()).unwrap();
        assert_eq!(interp.output_names(), vec!["y"]);
        let mut i = BTreeMap::new();
        i.insert("img".to_string(), ArrayD::from_shape_vec(IxDyn(&[3, 1, 1]), vec![1.0f32, 1.0, 1.0]).unwrap());
        // RGB: [2*1+1, 2*1-10, 2*1+3] = [3, -8, 5], relu -> [3, 0, 5], RANK4 mapping [1,3,1,1].
        let out = interp.run(i).unwrap();
        assert_eq!(out["y"].shape(), &[1, 3, 1, 1]);
        assert_eq!(out["y"].iter().copied().collect::<Vec<_>>(), vec![3.0, 0.0, 5.0]);
    }
}
