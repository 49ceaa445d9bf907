//! `crux chat PROVIDER/MODEL "prompt"`: one request from the terminal, streamed or not.

use std::io::Write;

use clap::Args;
use crux_llm::router::Peeked;
use crux_llm::{
    CallOptions, ChatRequest, Error, Message, ModelId, ProviderId, Route, RouteFailure, Router,
    StreamEvent,
};
use futures_util::StreamExt;

use crate::exit::Failure;
use crate::settings::Settings;

/// Arguments of `crux chat`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux chat openai/gpt-4o-mini \"Say hello\" --stream\n  crux chat smart \"hi\"              # an alias from [routes], with fallback\n  crux chat anthropic/claude-3-5-haiku-latest \"hi\" --json --max-tokens 50"
)]
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

/// Run `crux chat`: the model name resolves like the gateway's (aliases with fallback, breakers, the input guard)
/// through the library router; keys come from the environment, then the vault.
pub async fn run(args: ChatArgs, settings: &Settings) -> Result<(), Failure> {
    if args.max_tokens == Some(0) {
        return Err(Failure::usage("--max-tokens must be at least 1"));
    }
    if let Some(t) = args.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(Failure::usage("--temperature must be between 0 and 2"));
    }
    let config = settings.gateway()?;
    let probe = Router::new(settings.client()?, config.router.clone());
    let route = probe
        .resolve(&args.model, None)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let providers: Vec<ProviderId> = route.targets.iter().map(|t| t.provider).collect();
    let router = Router::new(settings.keyed_client(&providers).await?, config.router);
    let mut messages = Vec::new();
    if let Some(system) = args.system {
        messages.push(Message::system(system));
    }
    messages.push(Message::user(args.prompt));
    let mut req = ChatRequest::unrouted(messages);
    req.max_tokens = args.max_tokens;
    req.temperature = args.temperature;

    let mut out = std::io::stdout().lock();
    if args.stream {
        let routed = router
            .stream(&route, req, CallOptions::default())
            .await
            .map_err(|f| Failure::from(&f))?;
        served_by(&route, &routed.target, routed.fallbacks);
        let Peeked {
            buffered, stream, ..
        } = routed.value;
        let mut items = futures_util::stream::iter(buffered).chain(stream);
        let mut ends_with_newline = true;
        while let Some(item) = items.next().await {
            let event = item.map_err(|e| Failure::from(&e))?;
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
    let routed = router
        .chat(&route, req, CallOptions::default())
        .await
        .map_err(|f| Failure::from(&f))?;
    served_by(&route, &routed.target, routed.fallbacks);
    let resp = routed.value;
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

/// Through an alias, say on stderr which target answered (stdout stays the answer alone).
fn served_by(route: &Route, target: &ModelId, fallbacks: u32) {
    if route.alias || fallbacks > 0 {
        let after = match fallbacks {
            0 => String::new(),
            1 => " after 1 fallback".to_owned(),
            n => format!(" after {n} fallbacks"),
        };
        eprintln!("served by {target}{after}");
    }
}

fn io_failure(e: std::io::Error) -> Failure {
    Failure::runtime(format!("cannot write output: {e}"))
}

impl From<&Error> for Failure {
    /// By kind, never by message text: configuration (a missing key, a bad URL) and a refused model are usage
    /// errors (exit 2); everything that happened at a provider or on the network is a runtime failure (exit 1).
    fn from(e: &Error) -> Self {
        match e.root() {
            Error::Config(_) | Error::Forbidden(_) => Failure::usage(e.to_string()),
            _ => Failure::runtime(format!("{} ({})", e, e.code())),
        }
    }
}

impl From<&RouteFailure> for Failure {
    fn from(f: &RouteFailure) -> Self {
        let base = Failure::from(f.error());
        if f.attempts.len() > 1 {
            let mut base = base;
            base.message = format!("{} [tried {}]", base.message, tried(f));
            return base;
        }
        base
    }
}

fn tried(f: &RouteFailure) -> String {
    f.attempts
        .iter()
        .map(|a| format!("{}: {}", a.target, a.error.code()))
        .collect::<Vec<_>>()
        .join(", ")
}
