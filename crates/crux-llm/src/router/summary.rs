//! The `summarize` context strategy: the turns pruning would drop are condensed by the configured summarizer model
//! (through this same router, so aliases and fallback apply) into one system message placed after the leading
//! system messages. Summaries are cached per dropped prefix, so a growing conversation pays once per prefix.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::{CallOptions, Router};
use crate::types::{ChatRequest, Message, Role};

/// Most cached summaries before the cache starts over.
const CACHE_ENTRIES: usize = 256;

fn key(dropped: &[&Message]) -> u64 {
    let mut h = DefaultHasher::new();
    serde_json::to_string(dropped)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

impl Router {
    /// `kept` (the oldest-first result) with the dropped turns of `req` replaced by a summary message; `None` when
    /// the summarizer fails (the caller then sends the oldest-first result).
    pub(super) async fn summarized(
        &self,
        req: &ChatRequest,
        kept: &[Message],
        summarizer: &str,
    ) -> Option<Vec<Message>> {
        // `kept` is a subsequence of the original: walk both to find what was dropped.
        let mut rest = kept.iter().peekable();
        let dropped: Vec<&Message> = req
            .messages
            .iter()
            .filter(|m| {
                if rest.peek() == Some(m) {
                    rest.next();
                    false
                } else {
                    true
                }
            })
            .collect();
        if dropped.is_empty() {
            return Some(kept.to_vec());
        }
        let k = key(&dropped);
        let cached = self.summaries.lock().ok().and_then(|c| c.get(&k).cloned());
        let summary = match cached {
            Some(s) => s,
            None => {
                let s = self.ask_summary(&dropped, summarizer).await?;
                if let Ok(mut c) = self.summaries.lock() {
                    if c.len() >= CACHE_ENTRIES {
                        c.clear();
                    }
                    c.insert(k, s.clone());
                }
                s
            }
        };
        let lead = kept.iter().take_while(|m| m.role == Role::System).count();
        let mut out = kept[..lead].to_vec();
        out.push(Message::system(format!(
            "Summary of the earlier conversation: {summary}"
        )));
        out.extend_from_slice(&kept[lead..]);
        Some(out)
    }

    async fn ask_summary(&self, dropped: &[&Message], summarizer: &str) -> Option<String> {
        let route = self.resolve(summarizer, None).ok()?;
        let transcript: String = dropped
            .iter()
            .map(|m| format!("{:?}: {}\n", m.role, m.text_content()))
            .collect();
        let req = ChatRequest::unrouted(vec![
            Message::system(
                "Condense the conversation below into a short summary that keeps every fact, decision and open \
                 question. Answer with the summary only.",
            ),
            Message::user(transcript),
        ]);
        let answer = Box::pin(self.chat(&route, req, CallOptions::default()))
            .await
            .ok()?;
        let text = answer.value.text();
        (!text.trim().is_empty()).then_some(text)
    }
}
