//! `crux logs [--provider --model --status --since --limit --json]` and `crux logs prune --older-than DUR`.

use clap::{Args, Subcommand};
use crux_llm::{ModelId, ProviderId};
use crux_store::{LogFilter, LogStatus};

use crate::duration::parse_duration;
use crate::exit::Failure;
use crate::output::{or_dash, preview, print_json, print_table, when};
use crate::settings::Settings;
use crate::store_config::open_store;

/// Arguments of `crux logs`.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  crux logs --provider openai --status error --since 1h --limit 20\n  crux logs prune --older-than 30d"
)]
pub struct LogsArgs {
    #[command(subcommand)]
    command: Option<LogsCommand>,
    #[command(flatten)]
    filter: FilterArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// At most this many entries, newest first.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Only requests of this client session (Claude Code's or Codex's session id).
    #[arg(long)]
    session: Option<String>,
    /// Store URL (default: CRUX_DATABASE_URL, else the SQLite file in your data directory).
    #[arg(long, global = true)]
    database_url: Option<String>,
}

/// Filters shared by `crux logs` and `crux metrics`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this provider.
    #[arg(long)]
    pub provider: Option<String>,
    /// Only this model (`gpt-4o-mini`, or `openai/gpt-4o-mini`).
    #[arg(long)]
    pub model: Option<String>,
    /// Only `ok` or `error`.
    #[arg(long)]
    pub status: Option<String>,
    /// Only the last DUR (e.g. 15m, 12h, 30d).
    #[arg(long)]
    pub since: Option<String>,
}

impl FilterArgs {
    /// The store filter; `--model provider/model` also sets the provider.
    pub fn to_filter(&self, limit: u32) -> Result<LogFilter, Failure> {
        let mut provider = self.provider.as_deref().map(|p| {
            p.parse::<ProviderId>()
                .map(|p| p.as_str().to_owned())
                .map_err(|e| Failure::usage(format!("{e}")))
        });
        let mut model = self.model.clone();
        if let Some(Ok(id)) = self.model.as_deref().map(str::parse::<ModelId>) {
            if provider.is_none() {
                provider = Some(Ok(id.provider.as_str().to_owned()));
            }
            model = Some(id.model.clone());
        }
        let status = self
            .status
            .as_deref()
            .map(|s| s.parse::<LogStatus>().map_err(Failure::from))
            .transpose()?;
        let since_ms = match &self.since {
            Some(d) => Some(
                crux_store::time::now_ms()
                    - i64::try_from(parse_duration(d)?.as_millis()).unwrap_or(i64::MAX),
            ),
            None => None,
        };
        Ok(LogFilter {
            provider: provider.transpose()?,
            model,
            status,
            since_ms,
            limit,
            ..LogFilter::default()
        })
    }
}

#[derive(Debug, Subcommand)]
enum LogsCommand {
    /// Delete chat logs older than DUR.
    Prune {
        /// Maximum age to keep (e.g. 30d).
        #[arg(long)]
        older_than: String,
        /// Also delete metric points older than DUR.
        #[arg(long)]
        metrics: bool,
    },
}

/// Run `crux logs`.
pub async fn run(args: LogsArgs, settings: &Settings) -> Result<(), Failure> {
    let url = settings.database_url(args.database_url.as_deref())?;
    if let Some(LogsCommand::Prune {
        older_than,
        metrics,
    }) = &args.command
    {
        let age = parse_duration(older_than)?;
        let store = open_store(&url).await?;
        let spinner = crate::progress::spinner(&format!("pruning entries older than {older_than}"));
        let result = async {
            let logs = store.prune_logs(age).await?;
            let points = if *metrics {
                Some(store.prune_metrics(age).await?)
            } else {
                None
            };
            Ok::<_, crux_store::StoreError>((logs, points))
        }
        .await;
        spinner.finish_and_clear();
        store.close().await;
        let (logs, points) = result?;
        match points {
            Some(p) => println!(
                "deleted {logs} chat log(s) and {p} metric point(s) older than {older_than}"
            ),
            None => println!("deleted {logs} chat log(s) older than {older_than}"),
        }
        return Ok(());
    }
    if args.limit == 0 {
        return Err(Failure::usage("--limit must be at least 1"));
    }
    let mut filter = args.filter.to_filter(args.limit)?;
    filter.session.clone_from(&args.session);
    let store = open_store(&url).await?;
    let entries = store.query_chat_logs(&filter).await;
    store.close().await;
    let entries = entries?;
    if args.json {
        return print_json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let l = &e.log;
            let status = match &l.error_code {
                Some(code) if l.status == LogStatus::Error => format!("error:{code}"),
                _ => l.status.to_string(),
            };
            vec![
                e.id.to_string(),
                when(l.ts_ms),
                format!("{}/{}", l.provider, l.model),
                status,
                format!("{}ms", l.latency_ms),
                or_dash(l.ttft_ms.map(|t| format!("{t}ms"))),
                format!(
                    "{}/{}",
                    or_dash(l.usage.prompt),
                    or_dash(l.usage.completion)
                ),
                or_dash(l.cost_usd.map(|c| format!("${c:.4}"))),
                preview(l.request_text.as_deref(), 40),
            ]
        })
        .collect();
    let headers = [
        "ID",
        "TIME",
        "MODEL",
        "STATUS",
        "LATENCY",
        "TTFT",
        "TOKENS IN/OUT",
        "COST",
        "REQUEST",
    ];
    print_table(&mut std::io::stdout().lock(), &headers, &rows)
}
