//! `crux metrics [--json]`: totals, by provider, by model, p50/p95 latency and error rate from the store.

use std::io::Write;

use clap::Args;
use crux_store::MetricGroup;

use crate::exit::Failure;
use crate::logs::FilterArgs;
use crate::output::{io_failure, or_dash, print_json, print_table};
use crate::settings::Settings;
use crate::store_config::open_store;

/// Arguments of `crux metrics`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  crux metrics\n  crux metrics --json")]
pub struct MetricsArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Store URL (default: CRUX_DATABASE_URL, else the SQLite file in your data directory).
    #[arg(long)]
    database_url: Option<String>,
}

fn row(name: String, g: &MetricGroup) -> Vec<String> {
    vec![
        name,
        g.count.to_string(),
        g.errors.to_string(),
        format!("{:.1}%", g.error_rate * 100.0),
        format!("{:.0}ms", g.avg_ms),
        or_dash(g.p50_ms.map(|v| format!("{v}ms"))),
        or_dash(g.p95_ms.map(|v| format!("{v}ms"))),
        format!("{}/{}", g.prompt_tokens, g.completion_tokens),
        format!("${:.4}", g.cost_usd),
    ]
}

/// Run `crux metrics`.
pub async fn run(args: MetricsArgs, settings: &Settings) -> Result<(), Failure> {
    let url = settings.database_url(args.database_url.as_deref())?;
    let filter = args.filter.to_filter(0)?;
    let store = open_store(&url).await?;
    let summary = store.metrics_summary(&filter).await;
    store.close().await;
    let summary = summary?;
    if args.json {
        return print_json(&summary);
    }
    let headers = [
        "",
        "REQUESTS",
        "ERRORS",
        "ERROR RATE",
        "AVG",
        "P50",
        "P95",
        "TOKENS IN/OUT",
        "COST",
    ];
    let mut rows = vec![row("total".into(), &summary.total)];
    rows.extend(
        summary
            .by_provider
            .iter()
            .map(|g| row(format!("  {}", or_dash(g.provider.as_ref())), g)),
    );
    let mut out = std::io::stdout().lock();
    print_table(&mut out, &headers, &rows)?;
    if !summary.by_model.is_empty() {
        writeln!(out).map_err(io_failure)?;
        let models: Vec<Vec<String>> = summary
            .by_model
            .iter()
            .map(|g| {
                row(
                    format!(
                        "{}/{}",
                        or_dash(g.provider.as_ref()),
                        or_dash(g.model.as_ref())
                    ),
                    g,
                )
            })
            .collect();
        let mut headers = headers;
        headers[0] = "MODEL";
        print_table(&mut out, &headers, &models)?;
    }
    Ok(())
}
