//! Throughput benchmarks for the SSE and NDJSON stream decoders on ~1 MB realistic bodies.

use std::sync::LazyLock;

use crux_llm::decode::{DecodeError, NdjsonDecoder, SseDecoder};
use divan::counter::BytesCount;
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

/// Approximate body size.
const BODY_BYTES: usize = 1 << 20;

/// Token texts cycled through the generated deltas (JSON-escaped).
const TOKENS: &[&str] = &[
    "Hello",
    "!",
    " How",
    " can",
    " I",
    " help",
    " you",
    " today",
    "?",
    "\\n\\n",
    " The",
    " café",
    " serves",
    " crème",
    " brûlée",
    " 😀",
    " 日本語",
    " \\\"quoted\\\"",
    " tokens",
    ",",
    " and",
    " more",
    ".",
];

/// An OpenAI Chat Completions stream (`chat.completion.chunk` events, then `[DONE]`).
static SSE_BODY: LazyLock<(Vec<u8>, usize)> = LazyLock::new(|| {
    let head = "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\
                \"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"service_tier\":\"default\",\
                \"system_fingerprint\":\"fp_eb9dce56a8\",\"choices\":[{\"index\":0,\"delta\":";
    let mut body = format!(
        "data: {head}{{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}},\
         \"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
    );
    let mut events = 1;
    let mut i = 0;
    while body.len() < BODY_BYTES {
        let token = TOKENS[i % TOKENS.len()];
        body.push_str(&format!(
            "data: {head}{{\"content\":\"{token}\"}},\"logprobs\":null,\"finish_reason\":null}}],\
             \"usage\":null,\"obfuscation\":\"xY{i:x}\"}}\n\n"
        ));
        if i % 64 == 0 {
            body.push_str(": OPENROUTER PROCESSING\n\n");
        }
        events += 1;
        i += 1;
    }
    body.push_str(&format!(
        "data: {head}{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":null}}\n\n\
         data: {{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\
         \"choices\":[],\"usage\":{{\"prompt_tokens\":19,\"completion_tokens\":{i},\"total_tokens\":{}}}}}\n\n\
         data: [DONE]\n\n",
        i + 19
    ));
    (body.into_bytes(), events + 3)
});

/// An Ollama native `/api/chat` NDJSON stream.
static NDJSON_BODY: LazyLock<(Vec<u8>, usize)> = LazyLock::new(|| {
    let mut body = String::new();
    let mut lines = 0;
    while body.len() < BODY_BYTES {
        let token = TOKENS[lines % TOKENS.len()];
        body.push_str(&format!(
            "{{\"model\":\"llama3.2\",\"created_at\":\"2024-07-18T19:34:55.{lines:06}Z\",\
             \"message\":{{\"role\":\"assistant\",\"content\":\"{token}\"}},\"done\":false}}\n"
        ));
        lines += 1;
    }
    body.push_str(
        "{\"model\":\"llama3.2\",\"created_at\":\"2024-07-18T19:35:00.000000Z\",\
         \"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\
         \"total_duration\":5043500667,\"eval_count\":290}\n",
    );
    (body.into_bytes(), lines + 1)
});

/// Decodes `body` in `read`-byte pushes, dropping events as a consumer would; returns the event count.
fn run_sse(body: &[u8], read: usize) -> Result<usize, DecodeError> {
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    let mut events = 0;
    for chunk in body.chunks(read) {
        dec.push(chunk, &mut out)?;
        events += out.len();
        out.clear();
    }
    dec.finish(&mut out)?;
    Ok(events + out.len())
}

/// NDJSON counterpart of [`run_sse`].
fn run_ndjson(body: &[u8], read: usize) -> Result<usize, DecodeError> {
    let mut dec = NdjsonDecoder::default();
    let mut out = Vec::new();
    let mut lines = 0;
    for chunk in body.chunks(read) {
        dec.push(chunk, &mut out)?;
        lines += out.len();
        out.clear();
    }
    dec.finish(&mut out)?;
    Ok(lines + out.len())
}

/// SSE decode throughput with 1 KiB and 16 KiB network reads.
#[divan::bench(args = [1024, 16 * 1024])]
fn sse_openai_chunks(bencher: Bencher, read: usize) {
    let (body, events) = &*SSE_BODY;
    assert_eq!(run_sse(body, read), Ok(*events));
    bencher
        .counter(BytesCount::new(body.len()))
        .bench_local(|| run_sse(black_box(body), black_box(read)));
}

/// NDJSON decode throughput with 1 KiB and 16 KiB network reads.
#[divan::bench(args = [1024, 16 * 1024])]
fn ndjson_ollama_chat(bencher: Bencher, read: usize) {
    let (body, lines) = &*NDJSON_BODY;
    assert_eq!(run_ndjson(body, read), Ok(*lines));
    bencher
        .counter(BytesCount::new(body.len()))
        .bench_local(|| run_ndjson(black_box(body), black_box(read)));
}
