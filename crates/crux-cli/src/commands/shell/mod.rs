//! `crux shell`: an interactive, multi-turn chat. Built from small parts: the session core (`session`, one turn in
//! `turn`), the slash commands (`slash`), the terminal side (`ui`, completion in `complete`), the history file and
//! transcripts (`history`) and the remembered model (`prefs`). Every turn goes through the library `Router`.

mod complete;
mod fit;
mod history;
mod prefs;
mod session;
mod slash;
mod turn;
mod ui;

use std::collections::BTreeMap;

use clap::Args;
use crux_llm::{ProviderId, Router};
use crux_store::Store;

use self::complete::ShellHelper;
use self::session::Session;
use self::slash::Outcome;
use self::turn::TurnEnd;
use self::ui::{Input, Read, error_line, note_line};
use crate::config::ProcessEnv;
use crate::exit::Failure;
use crate::settings::Settings;

/// Arguments of `crux shell`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux shell                              # the last model used, else the first provider with a key\n  crux shell anthropic/claude-3-5-haiku-latest --system \"be brief\"\n  printf 'hello\\n/usage\\n' | crux shell openai/gpt-4o-mini   # scripted: plain lines in, answers out\n\nIn the shell: /help lists the commands; Tab completes commands, providers and models; Ctrl-C cancels a\ngeneration; Ctrl-D exits. History is kept in $XDG_STATE_HOME/crux/shell_history."
)]
pub struct ShellArgs {
    /// Model to start with: PROVIDER/MODEL or an alias (default: the last one used).
    pub model: Option<String>,
    /// System prompt.
    #[arg(long)]
    pub system: Option<String>,
    /// Wait for whole answers instead of streaming tokens (`/stream on` switches back).
    #[arg(long)]
    pub no_stream: bool,
    /// Sampling temperature (0 to 2).
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Upper bound on generated tokens.
    #[arg(long)]
    pub max_tokens: Option<u32>,
}

/// The model to start on: the flag, the remembered one, else the first provider with a key (else OpenAI's default).
fn starting_model(router: &Router, defaults: &BTreeMap<ProviderId, String>) -> String {
    let client = router.client();
    let keyed = ProviderId::all()
        .into_iter()
        .find(|p| !p.spec().key_env.is_empty() && client.has_key(*p))
        .unwrap_or(ProviderId::OpenAi);
    let model = defaults
        .get(&keyed)
        .cloned()
        .unwrap_or_else(|| crux_llm::catalog::default_model(keyed).to_owned());
    format!("{keyed}/{model}")
}

async fn open_store(settings: &Settings) -> Option<Store> {
    let url = settings.database_url(None).ok()?;
    crate::store_config::open_store(&url).await.ok()
}

/// The client with every provider's key: the environment, then the vault when the store is open.
async fn client(settings: &Settings, store: Option<&Store>) -> Result<crux_llm::Client, Failure> {
    let client = settings.client()?;
    let Some(store) = store else {
        return Ok(client);
    };
    let missing: Vec<ProviderId> = ProviderId::all()
        .into_iter()
        .filter(|p| !client.has_key(*p))
        .collect();
    let keys = crate::store_config::resolve_keys(store, &missing, &ProcessEnv).await?;
    Ok(keys.apply(client))
}

fn completions(session: &Session) -> ShellHelper {
    ShellHelper {
        providers: ProviderId::all()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        models: session.model_names(),
    }
}

/// Run `crux shell`.
pub async fn run(args: ShellArgs, settings: &Settings) -> Result<(), Failure> {
    if let Some(t) = args.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(Failure::usage("--temperature must be between 0 and 2"));
    }
    if args.max_tokens == Some(0) {
        return Err(Failure::usage("--max-tokens must be at least 1"));
    }
    let store = open_store(settings).await;
    let config = settings.gateway()?;
    let router = Router::new(client(settings, store.as_ref()).await?, config.router);
    let mut snapshots = Vec::new();
    if let Some(store) = &store {
        for p in ProviderId::all() {
            if let Ok(Some(stored)) = store.load_models_snapshot(p.as_str()).await {
                snapshots.push(crux_gateway::sync::snapshot_from_stored(p, stored));
            }
        }
    }
    let observations = match &store {
        Some(store) => crux_gateway::sync::stored_observations(store)
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    if let Ok(mut registry) = router.registry().write() {
        for snapshot in snapshots {
            registry.set_snapshot(snapshot);
        }
        for obs in observations {
            registry.observe(obs);
        }
    }
    if let Some(store) = &store {
        router.set_observer(crux_gateway::sync::persist_observations(store.clone()));
    }
    let defaults: BTreeMap<ProviderId, String> = settings
        .file
        .providers
        .iter()
        .filter_map(|(name, s)| Some((name.parse().ok()?, s.default_model.clone()?)))
        .collect();
    let remembered = prefs::last_model(store.as_ref()).await;
    let mut session = match (&args.model, remembered) {
        (Some(m), _) => Session::new(router, m, defaults).map_err(Failure::usage)?,
        (None, Some(m)) if router.resolve(&m, None).is_ok() => {
            Session::new(router, &m, defaults).map_err(Failure::usage)?
        }
        (None, _) => {
            let m = starting_model(&router, &defaults);
            Session::new(router, &m, defaults).map_err(Failure::usage)?
        }
    };
    session.options.system = args.system;
    session.options.stream = !args.no_stream;
    session.options.temperature = args.temperature;
    session.options.max_tokens = args.max_tokens;

    let mut input = Input::open(history::history_file())?;
    input.set_completions(completions(&session));
    if input.interactive() {
        note_line(&format!(
            "crux shell · {} · /help for commands, Ctrl-D to exit",
            session.model
        ));
    }
    let mut out = std::io::stdout();
    loop {
        let prompt = if input.interactive() {
            format!("{}> ", session.model)
        } else {
            String::new()
        };
        let read = tokio::task::block_in_place(|| input.read(&prompt))?;
        let line = match read {
            Read::Line(line) => line,
            Read::Interrupted => continue,
            Read::Eof => break,
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        input.remember(&line);
        if text.starts_with('/') && !text.starts_with("//") {
            match slash::run(text, &mut session, &mut out) {
                Ok(Outcome::Quit) => break,
                Ok(Outcome::ModelChanged) => {
                    input.set_completions(completions(&session));
                    prefs::remember_model(store.as_ref(), &session.model).await;
                }
                Ok(Outcome::Continue) => {}
                Err(message) => error_line(&message),
            }
            continue;
        }
        let text = text.strip_prefix('/').unwrap_or(text);
        match turn::run(&mut session, text, &mut out).await {
            TurnEnd::Done(rec, elapsed) => {
                if input.interactive() {
                    let cost = rec
                        .cost_usd
                        .map_or(String::new(), |c| format!(" · ${c:.6}"));
                    note_line(&format!(
                        "[{} · {} in / {} out{cost} · {:.1}s]",
                        rec.target,
                        rec.usage.prompt.unwrap_or(0),
                        rec.usage.completion.unwrap_or(0),
                        elapsed.as_secs_f64()
                    ));
                }
                prefs::remember_model(store.as_ref(), &session.model).await;
            }
            TurnEnd::Cancelled => note_line("[cancelled]"),
            TurnEnd::Failed(message) => error_line(&message),
        }
    }
    if let Some(store) = store {
        store.close().await;
    }
    Ok(())
}
