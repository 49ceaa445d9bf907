//! `crux serve [--config FILE] [--listen ADDR]`: runs the gateway until SIGINT/SIGTERM, then drains gracefully.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use crux_gateway::AppState;
use crux_llm::ProviderId;

use crate::config::{Env, ProcessEnv};
use crate::exit::Failure;
use crate::settings;

/// Arguments of `crux serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Config file (default: $CRUX_CONFIG, else ./crux.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Listen address (default: $CRUX_LISTEN, else the file's `listen`, else 127.0.0.1:4000).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Run `crux serve`.
pub async fn run(args: ServeArgs) -> Result<(), Failure> {
    let env = ProcessEnv;
    let path = settings::config_path(args.config.as_deref(), &env);
    let file = settings::load(path.as_deref())?;
    let client = settings::client(&file, &env)?;
    let config = settings::gateway(&file, &env)?;
    let addr = settings::listen(args.listen, &file, &env)?;
    let grace = config.shutdown_grace;
    let has_master = config.master_key.is_some();
    let state = AppState::new(client, config);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::runtime(e.to_string()))?;
    let keyed: Vec<&str> = ProviderId::ALL
        .iter()
        .filter(|p| {
            p.spec().key_optional() || p.spec().key_env.iter().any(|k| env.get(k).is_some())
        })
        .map(|p| p.as_str())
        .collect();
    eprintln!("crux serve listening on http://{local}");
    eprintln!(
        "providers with keys: {}",
        if keyed.is_empty() {
            "none".to_owned()
        } else {
            keyed.join(", ")
        }
    );
    if !has_master {
        eprintln!("no CRUX_MASTER_KEY: serving loopback clients only; admin routes are closed");
    }
    if let Some(p) = &path {
        eprintln!("config: {}", p.display());
    }
    tracing::info!(%local, "gateway started");

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crux_gateway::serve(listener, state, async {
        let _ = stop_rx.await;
    }));
    shutdown_signal().await;
    eprintln!(
        "shutting down: finishing in-flight requests (up to {}s)",
        grace.as_secs()
    );
    let _ = stop_tx.send(());
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => Err(Failure::runtime(format!("server error: {e}"))),
        Ok(Err(e)) => Err(Failure::runtime(format!("server task failed: {e}"))),
        Err(_) => {
            eprintln!("grace period over: closing remaining connections");
            Ok(())
        }
    }
}
