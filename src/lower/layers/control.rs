//! Control-flow markers: `loopBreak`, `loopContinue`. `branch` and `loop` hold nested
//! networks, are not rule-language kinds and are lowered separately (issue 13).

use super::LayerInput;
use crate::lower::error::LowerError;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::*;

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    Ok(Some(match i.params.kind.name {
        "loopBreak" => Layer::LoopBreak(LoopBreakLayerParams {}),
        "loopContinue" => Layer::LoopContinue(LoopContinueLayerParams {}),
        _ => return Ok(None),
    }))
}
