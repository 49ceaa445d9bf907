//! `crux models list [PROVIDER] [--refresh] [--json]`, `models show P/M`, `models forget P/M`,
//! `models validate-defaults`.

use std::io::Write;

use clap::{Args, Subcommand};
use crux_llm::registry::{Problem, Severity, refresh_each};
use crux_llm::{ModelEntry, ModelId, ProviderId, Registry};
use futures_util::StreamExt;

use crate::exit::Failure;
use crate::settings::Settings;

/// `crux models …`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux models list openai\n  crux models list --refresh --json\n  crux models show anthropic/claude-3-5-haiku-latest\n  crux models forget openai/gpt-4o-mini\n  crux models validate-defaults"
)]
pub struct ModelsArgs {
    #[command(subcommand)]
    command: ModelsCommand,
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// List models: id, context, prices, capabilities.
    List {
        /// Only this provider.
        provider: Option<String>,
        /// Fetch each provider's list from its API first (in parallel).
        #[arg(long)]
        refresh: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one model as PROVIDER/MODEL.
    Show {
        /// The model.
        model: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Clear what was observed about PROVIDER/MODEL (e.g. that it rejected tools): the catalog applies again.
    Forget {
        /// The model.
        model: String,
    },
    /// Check configured default models and route targets against the registry (exit 1 on problems).
    ValidateDefaults,
}

fn out_err(e: std::io::Error) -> Failure {
    Failure::runtime(format!("cannot write output: {e}"))
}

fn price(p: Option<f64>) -> String {
    p.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
}

fn row(e: &ModelEntry) -> String {
    let caps: Vec<&str> = e
        .capabilities
        .iter()
        .filter(|(_, on)| **on)
        .map(|(c, _)| c.as_str())
        .collect();
    let (input, output) = e
        .prices
        .map_or((None, None), |p| (Some(p.input), Some(p.output)));
    format!(
        "{:<52} {:>9} {:>8} {:>8}  {}",
        format!("{}/{}", e.provider, e.id),
        e.context_window
            .map_or_else(|| "-".to_owned(), |c| c.to_string()),
        price(input),
        price(output),
        caps.join(",")
    )
}

/// Stored snapshots (from earlier refreshes, any instance) and observed capabilities into the registry; a missing
/// store is not an error.
async fn load_stored(registry: &mut Registry, settings: &Settings) -> Option<crux_store::Store> {
    let url = settings.database_url(None).ok()?;
    let store = crate::store_config::open_store(&url).await.ok()?;
    if let Ok(observations) = crux_gateway::sync::stored_observations(&store).await {
        for obs in observations {
            registry.observe(obs);
        }
    }
    for p in ProviderId::all() {
        if let Ok(Some(stored)) = store.load_models_snapshot(p.as_str()).await {
            registry.set_snapshot(crux_gateway::sync::snapshot_from_stored(p, stored));
        }
    }
    Some(store)
}

async fn refresh(
    registry: &mut Registry,
    providers: &[ProviderId],
    store: Option<&crux_store::Store>,
    settings: &Settings,
) -> Result<Vec<String>, Failure> {
    let client = settings.keyed_client(providers).await?;
    let total = u64::try_from(providers.len()).unwrap_or(u64::MAX);
    let bar = crate::progress::bar(total, "refreshing models");
    let mut notes = Vec::new();
    let mut results = refresh_each(&client, providers);
    while let Some((provider, result)) = results.next().await {
        bar.inc(1);
        bar.set_message(format!("refreshing models ({provider} done)"));
        match registry.apply_refresh(provider, result) {
            Ok(n) => {
                let saved = match (store, registry.snapshot(provider)) {
                    (Some(store), Some(snapshot)) => {
                        crux_gateway::sync::save_snapshot(store, snapshot)
                            .await
                            .is_ok()
                    }
                    _ => false,
                };
                notes.push(format!(
                    "{provider}: {n} models fetched{}",
                    if saved { ", snapshot stored" } else { "" }
                ));
            }
            Err(f) => notes.push(format!(
                "{provider}: refresh failed ({}), kept the last snapshot",
                f.message
            )),
        }
    }
    bar.finish_and_clear();
    Ok(notes)
}

/// Run `crux models …`.
pub async fn run(args: ModelsArgs, settings: &Settings) -> Result<(), Failure> {
    let mut registry = Registry::new();
    let store = load_stored(&mut registry, settings).await;
    let mut out = std::io::stdout().lock();
    match args.command {
        ModelsCommand::List {
            provider,
            refresh: fetch,
            json,
        } => {
            let providers: Vec<ProviderId> = match provider {
                Some(p) => vec![p.parse().map_err(|e| Failure::usage(format!("{e}")))?],
                None => ProviderId::all().to_vec(),
            };
            if fetch {
                for note in refresh(&mut registry, &providers, store.as_ref(), settings).await? {
                    eprintln!("{note}");
                }
            }
            let entries: Vec<&ModelEntry> =
                providers.iter().flat_map(|p| registry.models(*p)).collect();
            if json {
                let text = serde_json::to_string_pretty(&entries)
                    .map_err(|e| Failure::runtime(e.to_string()))?;
                writeln!(out, "{text}").map_err(out_err)?;
            } else {
                writeln!(
                    out,
                    "{:<52} {:>9} {:>8} {:>8}  CAPABILITIES",
                    "MODEL", "CONTEXT", "IN $/M", "OUT $/M"
                )
                .map_err(out_err)?;
                for e in entries {
                    writeln!(out, "{}", row(e)).map_err(out_err)?;
                }
            }
        }
        ModelsCommand::Show { model, json } => {
            let id: ModelId = model.parse().map_err(|e| Failure::usage(format!("{e}")))?;
            let entry = registry
                .get(&id)
                .or_else(|| registry.candidates(&id).into_iter().next());
            let entry = entry
                .ok_or_else(|| Failure::runtime(format!("model '{id}' is not in the registry")))?;
            let text = if json {
                serde_json::to_string_pretty(entry).map_err(|e| Failure::runtime(e.to_string()))?
            } else {
                serde_yaml_like(entry)
            };
            writeln!(out, "{text}").map_err(out_err)?;
        }
        ModelsCommand::Forget { model } => {
            let id: ModelId = model.parse().map_err(|e| Failure::usage(format!("{e}")))?;
            let store = store.ok_or_else(|| {
                Failure::runtime(
                    "cannot open the store: observations live there (see `crux doctor`)",
                )
            })?;
            let names: Vec<String> = match registry.get(&id) {
                Some(e) => std::iter::once(e.id.clone())
                    .chain(e.aliases.clone())
                    .collect(),
                None => vec![id.model.clone()],
            };
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let removed = store
                .forget_observed_capabilities(id.provider.as_str(), &names)
                .await
                .map_err(|e| Failure::runtime(format!("cannot clear observations: {e}")))?;
            registry.forget(&id);
            if removed == 0 {
                writeln!(out, "nothing observed about {id}").map_err(out_err)?;
            } else {
                writeln!(
                    out,
                    "forgot {removed} observed capabilit{} of {id}; the catalog applies again                      (a running gateway keeps its copy until restarted)",
                    if removed == 1 { "y" } else { "ies" }
                )
                .map_err(out_err)?;
            }
        }
        ModelsCommand::ValidateDefaults => {
            let file = &settings.file;
            let defaults: Vec<(ProviderId, String)> = ProviderId::all()
                .iter()
                .map(|p| {
                    let configured = file
                        .providers
                        .get(p.as_str())
                        .and_then(|s| s.default_model.clone());
                    (
                        *p,
                        configured
                            .unwrap_or_else(|| crux_llm::catalog::default_model(*p).to_owned()),
                    )
                })
                .collect();
            let routes: Vec<(String, Vec<String>)> = file
                .routes
                .iter()
                .map(|(k, r)| (k.clone(), r.target_names()))
                .collect();
            let problems: Vec<Problem> = registry.validate_defaults(&defaults, &routes);
            for p in &problems {
                writeln!(out, "{p}").map_err(out_err)?;
            }
            let errors = problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count();
            if errors > 0 {
                return Err(Failure::runtime(format!(
                    "{errors} configured model(s) are not in the registry"
                )));
            }
            writeln!(
                out,
                "ok: {} defaults and {} route(s) checked",
                defaults.len(),
                routes.len()
            )
            .map_err(out_err)?;
        }
    }
    Ok(())
}

/// A readable multi-line view of one model.
fn serde_yaml_like(e: &ModelEntry) -> String {
    let mut s = format!("{}/{}\n  name: {}\n", e.provider, e.id, e.name);
    if let Some(f) = &e.family {
        s.push_str(&format!("  family: {f}\n"));
    }
    if !e.aliases.is_empty() {
        s.push_str(&format!("  aliases: {}\n", e.aliases.join(", ")));
    }
    s.push_str(&format!(
        "  context window: {}\n  max output: {}\n",
        e.context_window
            .map_or_else(|| "unknown".to_owned(), |c| c.to_string()),
        e.max_output_tokens
            .map_or_else(|| "unknown".to_owned(), |c| c.to_string())
    ));
    if let Some(p) = e.prices {
        s.push_str(&format!(
            "  prices per 1M tokens: input ${:.3}, output ${:.3}",
            p.input, p.output
        ));
        if let Some(c) = p.cached_input {
            s.push_str(&format!(", cached input ${c:.3}"));
        }
        s.push('\n');
    }
    let caps: Vec<String> = e
        .capabilities
        .iter()
        .map(|(c, on)| format!("{}={on}", c.as_str()))
        .collect();
    s.push_str(&format!("  capabilities: {}", caps.join(" ")));
    for (cap, o) in &e.observed {
        let catalog = o
            .catalog
            .map_or_else(|| "unknown".to_owned(), |v| v.to_string());
        s.push_str(&format!(
            "\n  observed: {cap}={} (catalog: {catalog})",
            o.value
        ));
    }
    s
}
