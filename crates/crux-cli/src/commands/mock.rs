//! `crux mock [--listen ADDR]`: runs the mock provider server (every wire) until Ctrl-C.

use std::net::SocketAddr;

use clap::Args;

use crate::exit::Failure;

/// Arguments of `crux mock`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux mock --listen 127.0.0.1:9999\n  OPENAI_BASE_URL=http://127.0.0.1:9999/v1 OPENAI_API_KEY=x crux chat openai/gpt-4o-mini hi"
)]
pub struct MockArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9999")]
    pub listen: SocketAddr,
}

/// Run `crux mock`.
pub async fn run(args: MockArgs) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::runtime(e.to_string()))?;
    tracing::info!(%addr, "crux mock listening");
    eprintln!(
        "crux mock listening on http://{addr} (OpenAI and Responses at /v1, Anthropic at /v1/messages, \
         Gemini at /v1beta, Ollama at /api)"
    );
    crux_mock::serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| Failure::runtime(format!("mock server failed: {e}")))
}
