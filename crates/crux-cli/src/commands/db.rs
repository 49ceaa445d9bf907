//! `crux db migrate | copy --from URL --to URL | import-legacy PATH`: schema migration, copying a store between
//! SQLite and PostgreSQL (verified by row counts and checksums), and importing the original Python system's file.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use crux_store::{CopyOptions, ImportCounts, copy_store, import_legacy, redact_url};

use crate::config::ProcessEnv;
use crate::exit::Failure;
use crate::output::{print_json, print_table};
use crate::settings::Settings;
use crate::store_config::{connect_store, load_vault_key, open_store, redactor};

/// Arguments of `crux db`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux db migrate\n  crux db copy --from sqlite://crux.db --to postgres://postgres@127.0.0.1/crux\n  crux db import-legacy providers.db"
)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Apply pending schema migrations.
    Migrate {
        /// Store URL (default: CRUX_DATABASE_URL, else the SQLite file in your data directory).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Copy every table from one store to another and verify counts and checksums.
    Copy {
        /// Source store URL (must be at this crux's schema version; it is only read).
        #[arg(long)]
        from: String,
        /// Destination store URL (migrated first; must be empty unless --replace).
        #[arg(long)]
        to: String,
        /// Delete the destination's rows first (same transaction as the copy).
        #[arg(long)]
        replace: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import the original Python system's SQLite file (keys are encrypted with the vault key).
    ImportLegacy {
        /// Path of the legacy file (e.g. key_vault/providers.db).
        path: PathBuf,
        /// Store URL (default: CRUX_DATABASE_URL, else the SQLite file in your data directory).
        #[arg(long)]
        database_url: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run `crux db`.
pub async fn run(args: DbArgs, settings: &Settings) -> Result<(), Failure> {
    match args.command {
        DbCommand::Migrate { database_url: flag } => {
            let url = settings.database_url(flag.as_deref())?;
            let store = connect_store(&url).await?;
            let report = store.migrate().await;
            store.close().await;
            let report = report?;
            if report.applied.is_empty() {
                println!(
                    "{}: schema already at version {}",
                    redact_url(&url),
                    report.version
                );
            } else {
                let applied: Vec<String> = report.applied.iter().map(ToString::to_string).collect();
                println!(
                    "{}: applied migration(s) {}; schema at version {}",
                    redact_url(&url),
                    applied.join(", "),
                    report.version
                );
            }
            Ok(())
        }
        DbCommand::Copy {
            from,
            to,
            replace,
            json,
        } => copy(&from, &to, replace, json).await,
        DbCommand::ImportLegacy {
            path,
            database_url: flag,
            json,
        } => {
            let url = settings.database_url(flag.as_deref())?;
            let vault = load_vault_key(&ProcessEnv)?;
            let redactor = redactor(&ProcessEnv)?;
            let store = open_store(&url).await?;
            let spinner = crate::progress::spinner(&format!("importing {}", path.display()));
            let report = import_legacy(
                &store,
                &path,
                vault.as_ref().map(|v| &v.0),
                redactor.as_ref(),
            )
            .await;
            spinner.finish_and_clear();
            store.close().await;
            let report = report?;
            if json {
                return print_json(&report);
            }
            let schemas = match (report.schema_a, report.schema_b) {
                (true, true) => "schemas A and B",
                (true, false) => "schema A",
                _ => "schema B",
            };
            println!(
                "imported {} ({schemas}) into {}",
                path.display(),
                redact_url(&url)
            );
            let row = |name: &str, c: ImportCounts| {
                vec![
                    name.to_owned(),
                    c.found.to_string(),
                    c.imported.to_string(),
                    c.skipped.to_string(),
                ]
            };
            let rows = vec![
                row("provider keys", report.keys),
                row("prefs", report.prefs),
                row("metrics", report.metrics),
                row("chat logs", report.chat_logs),
                row("models", report.models),
                row("model fetch metadata", report.model_meta),
                row("observed capabilities", report.observed),
            ];
            print_table(
                &mut std::io::stdout().lock(),
                &["", "FOUND", "IMPORTED", "SKIPPED"],
                &rows,
            )?;
            for note in &report.notes {
                println!("note: {note}");
            }
            Ok(())
        }
    }
}

async fn copy(from: &str, to: &str, replace: bool, json: bool) -> Result<(), Failure> {
    if from.trim() == to.trim() {
        return Err(Failure::usage("--from and --to name the same store"));
    }
    let source = connect_store(from).await?;
    let dest = match connect_store(to).await {
        Ok(d) => d,
        Err(e) => {
            source.close().await;
            return Err(e);
        }
    };
    let spinner = crate::progress::spinner("copying and verifying every table");
    let result = copy_store(&source, &dest, CopyOptions { replace }).await;
    spinner.finish_and_clear();
    source.close().await;
    dest.close().await;
    let stats = result?;
    if json {
        return print_json(&stats);
    }
    println!("copied {} → {}", redact_url(from), redact_url(to));
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|t| {
            vec![
                t.table.clone(),
                t.rows.to_string(),
                t.checksum[..16].to_owned(),
            ]
        })
        .collect();
    print_table(
        &mut std::io::stdout().lock(),
        &["TABLE", "ROWS", "CHECKSUM"],
        &rows,
    )?;
    println!("verified: every table has the same row count and checksum in both stores");
    Ok(())
}
