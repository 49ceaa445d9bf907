//! `crux doctor [--online]`: checks the config, the store and its migrations, the vault key, each provider's key
//! and (online) one authenticated call per provider; prints a ✓/✗ table with the fix for each problem and exits 1
//! when anything failed.

mod checks;

use std::io::Write;

use clap::Args;
use serde::Serialize;

use self::checks::{Check, Status};
use crate::exit::Failure;
use crate::output::{io_failure, print_json, print_table};
use crate::settings::Settings;
use crate::style::Style;

/// Arguments of `crux doctor`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux doctor                 # config, store, vault key, provider keys\n  crux doctor --online        # also one authenticated call per provider with a key\n  crux doctor --json\n\nExit status: 0 when nothing failed (warnings are fine), 1 otherwise."
)]
pub struct DoctorArgs {
    /// Also call each provider that has a key (lists its models: cheap, authenticated).
    #[arg(long)]
    pub online: bool,
    /// Print JSON: {"ok": bool, "checks": [{check, status, detail, fix?}]}.
    #[arg(long)]
    pub json: bool,
}

/// The `--json` document.
#[derive(Debug, Serialize)]
struct Report {
    ok: bool,
    checks: Vec<Check>,
}

/// Run `crux doctor`; `loaded` is the result of reading the config (a broken config is reported, not fatal).
pub async fn run(args: DoctorArgs, loaded: Result<Settings, Failure>) -> Result<(), Failure> {
    let mut all = checks::config(&loaded);
    let settings = loaded.unwrap_or_default();
    let (store_checks, store) = checks::store(&settings).await;
    all.extend(store_checks);
    all.push(checks::vault(store.as_ref()).await);
    let (key_checks, keyed) = checks::provider_keys(&settings, store.as_ref()).await;
    all.extend(key_checks);
    all.push(checks::any_provider(&keyed));
    if let Some(store) = store {
        store.close().await;
    }
    if args.online {
        match settings.keyed_client(&keyed).await {
            Ok(client) => {
                let configured = checks::configured(&settings);
                all.extend(checks::online(&client, &keyed, &configured).await);
            }
            Err(f) => all.push(Check {
                check: "online".to_owned(),
                status: Status::Fail,
                detail: f.message,
                fix: Some("fix the config problem above first".to_owned()),
            }),
        }
    }
    let failed = all.iter().filter(|c| c.status == Status::Fail).count();
    if args.json {
        print_json(&Report {
            ok: failed == 0,
            checks: all,
        })?;
    } else {
        print(&all, failed)?;
    }
    if failed > 0 {
        return Err(Failure::runtime(format!(
            "{failed} check(s) failed: apply the fixes above and run `crux doctor` again"
        )));
    }
    Ok(())
}

fn print(all: &[Check], failed: usize) -> Result<(), Failure> {
    let style = Style::stdout();
    let mut out = std::io::stdout().lock();
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|c| {
            let mark = match c.status {
                Status::Ok => "✓",
                Status::Warn => "!",
                Status::Fail => "✗",
            };
            vec![
                mark.to_owned(),
                c.check.clone(),
                c.detail.clone(),
                c.fix.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print_table(&mut out, &["", "CHECK", "RESULT", "FIX"], &rows)?;
    let warned = all.iter().filter(|c| c.status == Status::Warn).count();
    let summary = if failed == 0 {
        style.green(&format!("all checks passed ({warned} warning(s))"))
    } else {
        style.red(&format!("{failed} check(s) failed, {warned} warning(s)"))
    };
    writeln!(out, "{summary}").map_err(io_failure)
}
