//! `crux virtual-keys create|list|revoke`: client keys for the gateway. A new key is printed once, on stdout
//! alone (so `KEY=$(crux virtual-keys create ci)` works); only its hash and prefix are stored.

use clap::{Args, Subcommand};
use crux_store::NewVirtualKey;
use secrecy::ExposeSecret;

use crate::exit::Failure;
use crate::output::{or_dash, print_json, print_table, when};
use crate::settings::Settings;
use crate::store_config::open_store;

/// Arguments of `crux virtual-keys`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux virtual-keys create team --budget-usd 5 --rpm 60 --tpm 100000 --models openai/gpt-4o-mini,smart\n  crux virtual-keys list\n  crux virtual-keys revoke team"
)]
pub struct VirtualKeysArgs {
    #[command(subcommand)]
    command: VirtualKeysCommand,
    /// Store URL (default: CRUX_DATABASE_URL, else the SQLite file in your data directory).
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum VirtualKeysCommand {
    /// Create a key; it is printed once and cannot be shown again.
    Create {
        /// A name unique among active keys.
        name: String,
        /// Spend limit in USD.
        #[arg(long)]
        budget_usd: Option<f64>,
        /// Requests per minute.
        #[arg(long)]
        rpm: Option<u32>,
        /// Tokens (prompt plus completion) per minute.
        #[arg(long)]
        tpm: Option<u32>,
        /// Allowed models, comma-separated (`openai/gpt-4o-mini,smart`); default: every model.
        #[arg(long, value_delimiter = ',')]
        models: Option<Vec<String>>,
        /// Print JSON (including the key).
        #[arg(long)]
        json: bool,
    },
    /// List keys (never their secrets).
    List {
        /// Include revoked keys.
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id or name.
    Revoke {
        /// The key's id (`vk_…`) or name.
        id_or_name: String,
    },
}

/// Run `crux virtual-keys`.
pub async fn run(args: VirtualKeysArgs, settings: &Settings) -> Result<(), Failure> {
    let url = settings.database_url(args.database_url.as_deref())?;
    let store = open_store(&url).await?;
    let result = dispatch(&store, args.command).await;
    store.close().await;
    result
}

async fn dispatch(store: &crux_store::Store, command: VirtualKeysCommand) -> Result<(), Failure> {
    match command {
        VirtualKeysCommand::Create {
            name,
            budget_usd,
            rpm,
            tpm,
            models,
            json,
        } => {
            let new = NewVirtualKey {
                name,
                budget_usd,
                rpm,
                tpm,
                models,
            };
            let (key, secret) = store.create_virtual_key(&new).await?;
            if json {
                let mut v =
                    serde_json::to_value(&key).map_err(|e| Failure::runtime(e.to_string()))?;
                v["key"] = serde_json::Value::String(secret.expose_secret().to_owned());
                return print_json(&v);
            }
            println!("{}", secret.expose_secret());
            eprintln!(
                "created virtual key {} ({}); the key above is shown only this once: store it now",
                key.id, key.name
            );
            Ok(())
        }
        VirtualKeysCommand::List { all, json } => {
            let keys = store.list_virtual_keys(all).await?;
            if json {
                return print_json(&keys);
            }
            let rows: Vec<Vec<String>> = keys
                .iter()
                .map(|k| {
                    vec![
                        k.id.clone(),
                        k.name.clone(),
                        format!("{}…", k.prefix),
                        k.budget_usd
                            .map_or_else(|| "-".into(), |b| format!("${b:.2}")),
                        format!("${:.4}", k.spend_usd),
                        or_dash(k.rpm),
                        or_dash(k.tpm),
                        k.models
                            .as_ref()
                            .map_or_else(|| "all".into(), |m| m.join(",")),
                        if k.revoked {
                            "revoked".into()
                        } else {
                            "active".into()
                        },
                        when(k.created_at),
                    ]
                })
                .collect();
            let headers = [
                "ID", "NAME", "KEY", "BUDGET", "SPEND", "RPM", "TPM", "MODELS", "STATUS", "CREATED",
            ];
            print_table(&mut std::io::stdout().lock(), &headers, &rows)
        }
        VirtualKeysCommand::Revoke { id_or_name } => {
            let key = store.revoke_virtual_key(&id_or_name).await?;
            println!("revoked virtual key {} ({})", key.id, key.name);
            Ok(())
        }
    }
}
