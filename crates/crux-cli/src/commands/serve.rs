//! `crux serve [--config FILE] [--listen ADDR]`: runs the gateway until SIGINT/SIGTERM, then drains gracefully.

use std::net::SocketAddr;

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use crux_gateway::state::Persistence;
use crux_gateway::{AppState, sync};
use crux_llm::ProviderId;
use crux_llm::breaker::Clock;
use crux_store::{QueueConfig, WriteQueue};

use crate::config::ProcessEnv;
use crate::exit::Failure;
use crate::settings::{self, Settings};
use crate::store_config;

/// Arguments of `crux serve` (the config file is the global `--config`).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux serve\n  crux serve --demo          # every provider answered by the built-in mock, no keys\n  crux serve --config crux.toml --listen 0.0.0.0:4000"
)]
pub struct ServeArgs {
    /// Answer every provider from the built-in mock (in process): a full round trip without any key.
    #[arg(long)]
    pub demo: bool,
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

/// The store, its write queue, and the keys: env first, then the vault.
async fn persistence(
    settings: &Settings,
    client: crux_llm::Client,
    demo: bool,
) -> Result<(Persistence, WriteQueue, crux_llm::Client, String), Failure> {
    let url = settings.database_url(None)?;
    let store = store_config::open_store(&url).await?;
    let keys = if demo {
        store_config::ResolvedKeys::default()
    } else {
        store_config::resolve_keys(&store, &ProviderId::all(), &ProcessEnv).await?
    };
    let client = keys.apply(client);
    let redactor = store_config::redactor(&ProcessEnv)?.map(Arc::new);
    let queue = WriteQueue::spawn(
        store.clone(),
        QueueConfig {
            redactor,
            ..QueueConfig::default()
        },
    );
    let persistence = Persistence {
        store: Some(store),
        log: Some(queue.sender()),
        vault: keys.vault,
        env_keys: keys.from_env,
    };
    Ok((persistence, queue, client, crux_store::redact_url(&url)))
}

/// A client with every provider pointed at the mock at `url`, each with a placeholder key.
fn demo_client(url: &str) -> Result<crux_llm::Client, Failure> {
    ProviderId::all()
        .into_iter()
        .fold(crux_llm::Client::builder(), |b, p| {
            let base = match p.spec().wire {
                crux_llm::Wire::OpenAi | crux_llm::Wire::Responses => format!("{url}/v1"),
                _ => url.to_owned(),
            };
            b.provider(
                p,
                crux_llm::ProviderConfig {
                    base_url: Some(base),
                    api_key: Some("demo".into()),
                    ..Default::default()
                },
            )
        })
        .build()
        .map_err(|e| Failure::runtime(e.to_string()))
}

/// Run `crux serve`.
pub async fn run(args: ServeArgs, settings: &Settings) -> Result<(), Failure> {
    let file = &settings.file;
    let path = &settings.path;
    let demo = if args.demo {
        let mock = crux_mock::MockServer::start()
            .await
            .map_err(|e| Failure::runtime(format!("cannot start the demo mock: {e}")))?;
        Some(mock)
    } else {
        None
    };
    let client = match &demo {
        Some(mock) => demo_client(&mock.url())?,
        None => settings.client()?,
    };
    let mut config = settings.gateway()?;
    let addr = settings::listen(args.listen, file, &ProcessEnv)?;
    if let Some(push) = config.telemetry.push.as_mut()
        && push.instance.is_empty()
    {
        push.instance = addr.to_string();
    }
    let grace = config.shutdown_grace;
    let has_master = config.master_key.is_some();
    let (persistence, queue, client, store_url) =
        persistence(settings, client, demo.is_some()).await?;
    let keyed: Vec<&str> = ProviderId::all()
        .iter()
        .filter(|p| client.has_key(**p))
        .map(|p| p.as_str())
        .collect();
    let state = AppState::build(client, config, Clock::default(), persistence);
    if let Err(e) = sync::load_registry(&state).await {
        eprintln!("warning: cannot load stored model snapshots ({e}); using the built-in catalog");
    }
    sync::refresh_keys(&state)
        .await
        .map_err(|e| Failure::runtime(format!("cannot load virtual keys: {e}")))?;
    let sync_task = sync::spawn(Arc::clone(&state), Duration::from_secs(1));
    state.telemetry.install_global();
    let upkeep = {
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                state.telemetry.upkeep();
            }
        })
    };
    let exporters = state.telemetry.exporters().join(", ");
    let retention = match (&file.retention, &state.persistence.store) {
        (Some(text), Some(store)) => {
            let age = crate::duration::parse_duration(text)?;
            let policy = crux_store::RetentionPolicy {
                chat_logs: Some(age),
                metric_points: Some(age),
            };
            eprintln!("retention: chat logs and metrics older than {text} are pruned hourly");
            Some(crux_store::spawn_retention(
                store.clone(),
                policy,
                Duration::from_secs(3600),
            ))
        }
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::runtime(e.to_string()))?;
    eprintln!("crux serve listening on http://{local}");
    eprintln!("store: {store_url}");
    if let Some(mock) = &demo {
        eprintln!(
            "demo mode: every provider is answered by the built-in mock at {} (no keys, no real provider)",
            mock.url()
        );
    } else if keyed.is_empty() {
        eprintln!(
            "providers with keys: none — add one with `crux keys set openai` (stored encrypted) or OPENAI_API_KEY=…; \
             `crux serve --demo` answers from a built-in mock"
        );
    } else {
        eprintln!("providers with keys: {}", keyed.join(", "));
    }
    if !has_master {
        eprintln!("no CRUX_MASTER_KEY: serving loopback clients only; admin routes are closed");
    }
    if let Some(p) = &path {
        eprintln!("config: {}", p.display());
    }
    eprintln!(
        "telemetry: {}",
        if exporters.is_empty() {
            "off"
        } else {
            exporters.as_str()
        }
    );
    if let Some(c) = &state.config.cache {
        eprintln!(
            "response cache: in memory ({} s, {} answers){}",
            c.ttl.as_secs(),
            c.max_entries,
            if c.redis_url.is_some() {
                " and Redis"
            } else {
                ""
            }
        );
    }
    if state.config.scale_redis_url.is_some() {
        eprintln!("rpm limits: shared through Redis ([scale]); local limits while it is away");
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
    let served = match tokio::time::timeout(grace, server).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => Err(Failure::runtime(format!("server error: {e}"))),
        Ok(Err(e)) => Err(Failure::runtime(format!("server task failed: {e}"))),
        Err(_) => {
            eprintln!("grace period over: closing remaining connections");
            Ok(())
        }
    };
    sync_task.abort();
    upkeep.abort();
    if let Some(r) = retention {
        r.stop().await;
    }
    let stats = queue.shutdown().await;
    eprintln!(
        "store: {} records written, {} dropped",
        stats.written, stats.dropped
    );
    served
}
