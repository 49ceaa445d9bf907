//! `cache_control` markers of an inbound Anthropic body → the core request's cache breakpoints.

use serde_json::Value;

use super::types::{Block, Content, WireTool};
use crate::types::{CacheBreakpoint, CacheTtl};

/// Note a breakpoint covering the first `messages` core messages when `mark` is set.
pub(crate) fn close(breaks: &mut Vec<CacheBreakpoint>, mark: Option<CacheTtl>, messages: usize) {
    if let Some(ttl) = mark {
        breaks.push(CacheBreakpoint { messages, ttl });
    }
}

/// The TTL of the last `cache_control` among `blocks` (a tool result's own content blocks included), if any.
pub(crate) fn marked(blocks: &[Block]) -> Option<CacheTtl> {
    blocks.iter().rev().find_map(control)
}

/// The TTL of the last `cache_control` among the tool definitions, if any.
pub(crate) fn tools_marked(tools: &[WireTool]) -> Option<CacheTtl> {
    tools
        .iter()
        .rev()
        .find_map(|t| t.cache_control.as_ref().and_then(ttl))
}

fn control(b: &Block) -> Option<CacheTtl> {
    match b {
        Block::Text { extra, .. } => extra.get("cache_control").and_then(ttl),
        Block::ToolResult {
            cache_control,
            content,
            ..
        } => cache_control.as_ref().and_then(ttl).or(match content {
            Some(Content::Blocks(inner)) => marked(inner),
            _ => None,
        }),
        Block::Image { cache_control, .. } | Block::ToolUse { cache_control, .. } => {
            cache_control.as_ref().and_then(ttl)
        }
        _ => None,
    }
}

fn ttl(control: &Value) -> Option<CacheTtl> {
    control
        .is_object()
        .then(|| CacheTtl::of_cache_control(control))
}
