//! The `crux` binary: parses the command line and dispatches to each command.

mod commands;
mod config;
mod duration;
mod exit;
mod guard_config;
mod output;
mod progress;
mod provider_config;
mod route_config;
mod settings;
mod store_config;
mod style;
mod telemetry_config;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::commands::{
    bench, chat, completions, db, doctor, keys, logs, metrics, mock, models, serve, shell,
    virtual_keys,
};
use crate::exit::Failure;
use crate::settings::Settings;

/// The global allocator: jemalloc, chosen by measurement over glibc's malloc and mimalloc (`docs/benchmarks.md`,
/// "Allocator").
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Crux: one typed API over nine LLM providers — a gateway any OpenAI or Anthropic SDK can point at, a CLI, and a mock.
#[derive(Debug, Parser)]
#[command(
    name = "crux",
    version,
    after_help = "Examples:\n  crux serve --demo                       # a full round trip without keys\n  crux chat openai/gpt-4o-mini \"hello\" --stream\n  crux models list anthropic\n  crux keys set openai"
)]
struct Cli {
    /// Config file (default: $CRUX_CONFIG, else ./crux.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send one chat request from the terminal.
    Chat(chat::ChatArgs),
    /// Run a local mock provider server (OpenAI, Anthropic, Gemini, Ollama wires) for tests and demos.
    Mock(mock::MockArgs),
    /// Model registry: list, show, validate configured defaults.
    Models(models::ModelsArgs),
    /// Run the gateway (OpenAI- and Anthropic-compatible APIs over every provider).
    Serve(serve::ServeArgs),
    /// Provider keys in the encrypted vault: init, set, list, rm, rotate-master.
    Keys(keys::KeysArgs),
    /// Client keys for the gateway: create, list, revoke.
    VirtualKeys(virtual_keys::VirtualKeysArgs),
    /// Chat logs from the store (filters; `logs prune --older-than 30d`).
    Logs(logs::LogsArgs),
    /// Request metrics: totals, by provider and model, p50/p95 latency, error rate.
    Metrics(metrics::MetricsArgs),
    /// Interactive chat: multi-turn, streaming, slash commands, history, Ctrl-C cancels a generation.
    Shell(shell::ShellArgs),
    /// Latency and throughput benchmark: percentiles, TTFT, tokens/s, errors by code (direct or via crux serve).
    Bench(bench::BenchArgs),
    /// Check config, store, vault key and provider keys (--online: reachability); prints the fix for each problem.
    Doctor(doctor::DoctorArgs),
    /// Shell completion script (bash, zsh, fish) on stdout.
    Completions(completions::CompletionsArgs),
    /// Database: migrate, copy between SQLite and PostgreSQL, import the legacy file.
    Db(db::DbArgs),
}

/// Logs to stderr, filtered by `CRUX_LOG` (default `info`: one access line per request), text on a TTY and JSON
/// otherwise (`CRUX_LOG_FORMAT`). OTLP traces are the gateway's own (`[telemetry] otlp`), not log spans.
fn init_logging() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = std::env::var("CRUX_LOG").unwrap_or_else(|_| "info".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match std::env::var("CRUX_LOG_FORMAT").ok().as_deref() {
        Some("json") => true,
        Some("text") => false,
        _ => !std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = if json {
        fmt.json().flatten_event(true).boxed()
    } else {
        fmt.boxed()
    };
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = Settings::load(cli.config.as_deref());
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    if let Command::Completions(args) = &cli.command {
        return finish(completions::run(args, Cli::command()));
    }
    let result = match (cli.command, loaded) {
        (command, Ok(settings)) => runtime.block_on(dispatch(command, settings)),
        // The doctor reports a broken config instead of stopping at it.
        (Command::Doctor(args), Err(failure)) => runtime.block_on(doctor::run(args, Err(failure))),
        (_, Err(failure)) => Err(failure),
    };
    finish(result)
}

async fn dispatch(command: Command, settings: Settings) -> Result<(), Failure> {
    let s = &settings;
    match command {
        Command::Chat(args) => chat::run(args, s).await,
        Command::Mock(args) => mock::run(args).await,
        Command::Serve(args) => serve::run(args, s).await,
        Command::Models(args) => models::run(args, s).await,
        Command::Keys(args) => keys::run(args, s).await,
        Command::VirtualKeys(args) => virtual_keys::run(args, s).await,
        Command::Logs(args) => logs::run(args, s).await,
        Command::Metrics(args) => metrics::run(args, s).await,
        Command::Db(args) => db::run(args, s).await,
        Command::Shell(args) => shell::run(args, s).await,
        Command::Bench(args) => bench::run(args, s).await,
        Command::Doctor(args) => doctor::run(args, Ok(settings)).await,
        Command::Completions(args) => completions::run(&args, Cli::command()),
    }
}

fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.exit_code()
        }
    }
}
