//! `crux chat PROVIDER/MODEL "prompt"`: one request from the terminal, streamed or not.

use std::io::Write;

use clap::Args;
use crux_llm::{ChatRequest, Error, Message, ModelId, StreamEvent};
use futures_util::StreamExt;

use crate::config::{ProcessEnv, client_from_env};
use crate::exit::Failure;

/// Arguments of `crux chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Model as PROVIDER/MODEL, e.g. openai/gpt-4o-mini.
    pub model: String,
    /// The prompt.
    pub prompt: String,
    /// System prompt.
    #[arg(long)]
    pub system: Option<String>,
    /// Print tokens as they arrive.
    #[arg(long)]
    pub stream: bool,
    /// Print JSON (the response; with --stream, one JSON event per line).
    #[arg(long)]
    pub json: bool,
    /// Upper bound on generated tokens.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[arg(long)]
    pub temperature: Option<f32>,
}

/// Run `crux chat`.
pub async fn run(args: ChatArgs) -> Result<(), Failure> {
    let model: ModelId = args
        .model
        .parse()
        .map_err(|e| Failure::usage(format!("{e}")))?;
    if args.max_tokens == Some(0) {
        return Err(Failure::usage("--max-tokens must be at least 1"));
    }
    if let Some(t) = args.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(Failure::usage("--temperature must be between 0 and 2"));
    }
    let client = client_from_env(&ProcessEnv).map_err(Failure::from)?;
    let mut messages = Vec::new();
    if let Some(system) = args.system {
        messages.push(Message::system(system));
    }
    messages.push(Message::user(args.prompt));
    let mut req = ChatRequest::new(model, messages);
    req.max_tokens = args.max_tokens;
    req.temperature = args.temperature;

    let mut out = std::io::stdout().lock();
    if args.stream {
        let mut stream = client.chat_stream(&req);
        let mut ends_with_newline = true;
        while let Some(item) = stream.next().await {
            let event = item.map_err(Failure::from)?;
            if args.json {
                let line =
                    serde_json::to_string(&event).map_err(|e| Failure::runtime(e.to_string()))?;
                writeln!(out, "{line}").map_err(io_failure)?;
                continue;
            }
            match event {
                StreamEvent::TextDelta { text } => {
                    ends_with_newline = text.ends_with('\n');
                    write!(out, "{text}").map_err(io_failure)?;
                    out.flush().map_err(io_failure)?;
                }
                StreamEvent::ToolCallDelta {
                    id: Some(_), name, ..
                } => {
                    let name = name.unwrap_or_default();
                    write!(out, "\n[tool call] {name} ").map_err(io_failure)?;
                    ends_with_newline = false;
                }
                StreamEvent::ToolCallDelta { args_fragment, .. } => {
                    write!(out, "{args_fragment}").map_err(io_failure)?;
                    ends_with_newline = false;
                }
                _ => {}
            }
        }
        if !args.json && !ends_with_newline {
            writeln!(out).map_err(io_failure)?;
        }
        return Ok(());
    }
    let resp = client.chat(&req).await.map_err(Failure::from)?;
    if args.json {
        let json =
            serde_json::to_string_pretty(&resp).map_err(|e| Failure::runtime(e.to_string()))?;
        writeln!(out, "{json}").map_err(io_failure)?;
        return Ok(());
    }
    let text = resp.text();
    write!(out, "{text}").map_err(io_failure)?;
    for call in &resp.message.tool_calls {
        write!(out, "\n[tool call] {} {}", call.name, call.arguments).map_err(io_failure)?;
    }
    if !text.ends_with('\n') || !resp.message.tool_calls.is_empty() {
        writeln!(out).map_err(io_failure)?;
    }
    Ok(())
}

fn io_failure(e: std::io::Error) -> Failure {
    Failure::runtime(format!("cannot write output: {e}"))
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e.root() {
            Error::Config(_) => Failure::usage(e.to_string()),
            _ => Failure::runtime(format!("{} ({})", e, e.code())),
        }
    }
}
