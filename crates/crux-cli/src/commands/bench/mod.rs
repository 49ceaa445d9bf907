//! `crux bench MODEL`: a latency and throughput benchmark through the library `Router` — to the provider directly,
//! or through a running `crux serve` (`--base-url`). Warmup requests run first and are reported apart from the
//! stats; a progress bar shows on a terminal; the summary is a table or, with `--json`, one document.

mod report;
mod stats;

use std::time::Instant;

use clap::Args;
use crux_llm::router::Peeked;
use crux_llm::{
    CallOptions, ChatRequest, Client, Message, ModelId, ProviderConfig, ProviderId, RetryPolicy,
    Route, Router, RouterConfig, StreamEvent,
};
use futures_util::StreamExt;
use indicatif::ProgressBar;
use secrecy::SecretString;
use serde::Serialize;

use self::stats::{Phase, Sample};
use crate::exit::Failure;
use crate::settings::Settings;

/// Arguments of `crux bench`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  crux bench openai/gpt-4o-mini --requests 50 --concurrency 8 --stream\n  crux bench smart --requests 20 --json                 # an alias from [routes]\n  crux bench openai/gpt-4o-mini --base-url http://127.0.0.1:4000 --compare-direct --json\n\nTimes are milliseconds. Warmup requests (--warmup) run first and are left out of the stats."
)]
pub struct BenchArgs {
    /// Model as PROVIDER/MODEL, or an alias.
    pub model: String,
    /// Measured requests.
    #[arg(long, default_value_t = 20)]
    pub requests: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: u32,
    /// Requests sent first and left out of the stats.
    #[arg(long, default_value_t = 2)]
    pub warmup: u32,
    /// Stream the answers (adds time-to-first-token percentiles).
    #[arg(long)]
    pub stream: bool,
    /// The prompt of every request.
    #[arg(
        long,
        default_value = "Reply with one short sentence about benchmarks."
    )]
    pub prompt: String,
    /// Upper bound on generated tokens per request.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Benchmark through a running `crux serve` at this URL (its OpenAI-compatible /v1 API).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Key for --base-url (default: CRUX_MASTER_KEY; a loopback gateway without one needs none).
    #[arg(long)]
    pub api_key: Option<String>,
    /// With --base-url, run the same load directly too and report both p50s and their difference.
    #[arg(long, requires = "base_url")]
    pub compare_direct: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// The whole report (`--json`): the measured phase's fields at the top level.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The model as given.
    pub model: String,
    /// `direct` or `gateway`.
    pub via: &'static str,
    /// The gateway URL, with --base-url.
    pub base_url: Option<String>,
    /// Streamed requests.
    pub stream: bool,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Warmup requests (excluded from the stats).
    pub warmup: u32,
    /// Who served the measured requests, and how many each.
    pub served_by: std::collections::BTreeMap<String, u64>,
    /// The measured requests.
    #[serde(flatten)]
    pub measured: Phase,
    /// The warmup on its own (never part of `measured`).
    pub warmup_stats: Phase,
    /// With --compare-direct: the same load sent directly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct: Option<Phase>,
    /// With --compare-direct: p50 through the gateway minus p50 direct, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_overhead_p50_ms: Option<f64>,
    /// Through a gateway: the p50 of the overhead it reported (`x-crux-overhead-ms`), in milliseconds, to set beside
    /// `gateway_overhead_p50_ms` (what the client measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_reported_overhead_p50_ms: Option<f64>,
    /// Through a gateway: the p50 of a bare round trip to it (`GET /health`, one at a time), in milliseconds — the
    /// extra HTTP hop a request through any gateway pays and the gateway cannot time itself. The measured overhead
    /// is the reported one plus this hop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_hop_p50_ms: Option<f64>,
}

/// Round trips timed for the hop: one at a time, after a few untimed ones that open the connection.
const HOP_SAMPLES: usize = 300;

/// The p50 of `GET {root}/health` round trips, one at a time on a kept-alive connection (`None` if it fails).
async fn hop_p50(root: &str) -> Option<f64> {
    let http = reqwest::Client::builder().tcp_nodelay(true).build().ok()?;
    let url = format!("{root}/health");
    let mut samples = Vec::with_capacity(HOP_SAMPLES);
    for i in 0..HOP_SAMPLES + 20 {
        let t = Instant::now();
        let resp = http.get(&url).send().await.ok()?;
        resp.bytes().await.ok()?;
        if i >= 20 {
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    samples.sort_by(f64::total_cmp);
    samples
        .get(samples.len() / 2)
        .map(|p| (p * 1000.0).round() / 1000.0)
}

/// A router and the route every request takes.
struct Target {
    router: Router,
    route: Route,
}

/// Direct: the name resolves like `crux chat` (aliases, fallback), keys from the environment then the vault.
async fn direct(settings: &Settings, model: &str) -> Result<Target, Failure> {
    let mut config = settings.gateway()?.router;
    // The benchmark measures the provider, not the breaker: it never opens during a run.
    config.breaker = crux_llm::breaker::BreakerConfig::never();
    let probe = Router::new(settings.client()?, config.clone());
    let route = probe
        .resolve(model, None)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let providers: Vec<ProviderId> = route.targets.iter().map(|t| t.provider).collect();
    let router = Router::new(settings.keyed_client(&providers).await?, config);
    Ok(Target { router, route })
}

/// Through `crux serve`: its OpenAI-compatible API, the model name passed as given (the gateway resolves it).
fn gateway(
    settings: &Settings,
    base: &str,
    key: Option<&str>,
    model: &str,
) -> Result<Target, Failure> {
    let base = base.trim().trim_end_matches('/');
    if !base.starts_with("http://") && !base.starts_with("https://") {
        return Err(Failure::usage(format!(
            "--base-url must start with http:// or https:// (got '{base}')"
        )));
    }
    let base = if base.ends_with("/v1") {
        base.to_owned()
    } else {
        format!("{base}/v1")
    };
    let key = key
        .map(SecretString::from)
        .or(settings.gateway()?.master_key)
        .unwrap_or_else(|| SecretString::from("crux-bench"));
    let client = Client::builder()
        .provider(
            ProviderId::OpenAi,
            ProviderConfig {
                base_url: Some(base),
                api_key: Some(key),
                ..ProviderConfig::default()
            },
        )
        .retry(RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        })
        .build()
        .map_err(|e| Failure::usage(e.to_string()))?;
    let config = RouterConfig {
        breaker: crux_llm::breaker::BreakerConfig::never(),
        ..RouterConfig::default()
    };
    let route = Route {
        name: model.to_owned(),
        targets: vec![ModelId::new(ProviderId::OpenAi, model)],
        alias: false,
    };
    Ok(Target {
        router: Router::new(client, config),
        route,
    })
}

/// One request, timed.
async fn one(target: &Target, req: ChatRequest, stream: bool) -> (Sample, Option<ModelId>) {
    let started = Instant::now();
    let ms = |s: Instant| s.elapsed().as_secs_f64() * 1000.0;
    if !stream {
        return match target
            .router
            .chat(&target.route, req, CallOptions::default())
            .await
        {
            Ok(r) => {
                let sample = Sample {
                    latency_ms: ms(started),
                    prompt_tokens: r.value.usage.prompt,
                    completion_tokens: r.value.usage.completion,
                    reported_overhead_ms: r.reported_overhead.map(|d| d.as_secs_f64() * 1000.0),
                    ..Sample::default()
                };
                (sample, Some(r.target))
            }
            Err(f) => (failed(ms(started), f.error().code().as_str()), None),
        };
    }
    let routed = match target
        .router
        .stream(&target.route, req, CallOptions::default())
        .await
    {
        Ok(r) => r,
        Err(f) => return (failed(ms(started), f.error().code().as_str()), None),
    };
    let Peeked {
        buffered, stream, ..
    } = routed.value;
    let mut items = futures_util::stream::iter(buffered).chain(stream);
    let mut sample = Sample {
        reported_overhead_ms: routed.reported_overhead.map(|d| d.as_secs_f64() * 1000.0),
        ..Sample::default()
    };
    while let Some(item) = items.next().await {
        match item {
            Ok(
                StreamEvent::TextDelta { .. }
                | StreamEvent::ReasoningDelta { .. }
                | StreamEvent::ToolCallDelta { .. },
            ) => {
                sample.ttft_ms.get_or_insert_with(|| ms(started));
            }
            Ok(StreamEvent::Usage(u)) => {
                sample.prompt_tokens = u.prompt;
                sample.completion_tokens = u.completion;
            }
            Ok(_) => {}
            Err(e) => return (failed(ms(started), e.code().as_str()), None),
        }
    }
    sample.latency_ms = ms(started);
    (sample, Some(routed.target))
}

fn failed(latency_ms: f64, code: &str) -> Sample {
    Sample {
        latency_ms,
        error: Some(code.to_owned()),
        ..Sample::default()
    }
}

/// Run `n` requests, `concurrency` at a time; returns the samples, who served them, and the wall time in ms.
async fn phase(
    target: &Target,
    args: &BenchArgs,
    n: u32,
    bar: &ProgressBar,
) -> (Vec<Sample>, Vec<ModelId>, f64) {
    let started = Instant::now();
    let request = || {
        let mut req = ChatRequest::unrouted(vec![Message::user(args.prompt.clone())]);
        req.max_tokens = args.max_tokens;
        req
    };
    let width = usize::try_from(args.concurrency.max(1)).unwrap_or(1);
    let mut results = futures_util::stream::iter(0..n)
        .map(|_| one(target, request(), args.stream))
        .buffer_unordered(width);
    let mut samples = Vec::new();
    let mut served = Vec::new();
    while let Some((sample, by)) = results.next().await {
        bar.inc(1);
        samples.push(sample);
        served.extend(by);
    }
    (samples, served, started.elapsed().as_secs_f64() * 1000.0)
}

/// Warmup then the measured phase, with the bar labelled for each.
async fn measure(target: &Target, args: &BenchArgs, label: &str) -> (Phase, Phase, Vec<ModelId>) {
    let bar = crate::progress::bar(u64::from(args.warmup) + u64::from(args.requests), label);
    bar.set_message(format!("{label}: warmup"));
    let (w, _, w_ms) = phase(target, args, args.warmup, &bar).await;
    bar.set_message(label.to_owned());
    let (m, served, m_ms) = phase(target, args, args.requests, &bar).await;
    bar.finish_and_clear();
    (Phase::of(&m, m_ms), Phase::of(&w, w_ms), served)
}

/// Run `crux bench`.
pub async fn run(args: BenchArgs, settings: &Settings) -> Result<(), Failure> {
    if args.requests == 0 || args.concurrency == 0 {
        return Err(Failure::usage(
            "--requests and --concurrency must be at least 1",
        ));
    }
    if args.max_tokens == Some(0) {
        return Err(Failure::usage("--max-tokens must be at least 1"));
    }
    let (target, via) = match &args.base_url {
        Some(base) => (
            gateway(settings, base, args.api_key.as_deref(), &args.model)?,
            "gateway",
        ),
        None => (direct(settings, &args.model).await?, "direct"),
    };
    let hop = match &args.base_url {
        Some(base) => {
            let root = base.trim().trim_end_matches('/');
            hop_p50(root.strip_suffix("/v1").unwrap_or(root)).await
        }
        None => None,
    };
    let (measured, warmup_stats, served) = measure(&target, &args, &format!("bench {via}")).await;
    let mut direct_phase = None;
    if args.compare_direct {
        let plain = direct(settings, &args.model).await?;
        direct_phase = Some(measure(&plain, &args, "bench direct").await.0);
    }
    let overhead = match (
        &measured.latency_ms,
        direct_phase.as_ref().and_then(|d| d.latency_ms),
    ) {
        (Some(g), Some(d)) => Some(((g.p50 - d.p50) * 1000.0).round() / 1000.0),
        _ => None,
    };
    let reported = measured.gateway_reported_overhead_ms.map(|p| p.p50);
    let mut served_by = std::collections::BTreeMap::new();
    for t in served {
        // Through the gateway the target is the gateway's; the name sent is what it served.
        let name = if via == "gateway" {
            t.model
        } else {
            t.to_string()
        };
        *served_by.entry(name).or_insert(0) += 1;
    }
    let report = Report {
        model: args.model.clone(),
        via,
        base_url: args.base_url.clone(),
        stream: args.stream,
        concurrency: args.concurrency,
        warmup: args.warmup,
        served_by,
        measured,
        warmup_stats,
        direct: direct_phase,
        gateway_overhead_p50_ms: overhead,
        gateway_reported_overhead_p50_ms: reported,
        gateway_hop_p50_ms: hop,
    };
    if args.json {
        crate::output::print_json(&report)?;
    } else {
        report::print(&report)?;
    }
    if report.measured.ok == 0 {
        let codes: Vec<String> = report.measured.errors.keys().cloned().collect();
        return Err(Failure::runtime(format!(
            "every request failed ({})",
            codes.join(", ")
        )));
    }
    Ok(())
}
