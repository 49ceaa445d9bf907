//! `Client`: the typed entry point (chat, chat_stream, embed, list_models) over one shared HTTP client.

mod context_cache;
mod fixed;
mod raw;
mod send;
mod sigv4;
mod stream;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};

pub use self::raw::{RawFrames, RawRequest};
pub use self::stream::ChatStream;
use crate::error::{Error, ErrorCode, Result, TimeoutPhase};
use crate::providers::{ProviderId, ProviderSpec};
use crate::types::{ChatRequest, ChatResponse, EmbedRequest, EmbedResponse, ModelInfo};
use crate::wire;

/// Per-phase timeouts. The HTTP client itself has no total timeout (it would cut long streams).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the TCP/TLS connection (client-wide).
    pub connect: Duration,
    /// From sending the request to the response head.
    pub first_byte: Duration,
    /// Longest gap between two stream reads.
    pub idle: Duration,
    /// The whole call, retries included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_secs(30),
            idle: Duration::from_secs(30),
            total: Duration::from_secs(600),
        }
    }
}

/// Retry policy for failures before the first byte is forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff step (doubled each retry, with jitter).
    pub initial_backoff: Duration,
    /// Backoff cap.
    pub max_backoff: Duration,
    /// Largest server `retry-after` honoured; longer hints fall back to backoff.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// What one call met on the way: the retries it made, each with the failure that caused it, the time spent waiting on
/// the upstream (from each send to its response head, plus reading a whole body), and the overhead the upstream
/// reported about itself (`x-crux-overhead-ms`, when the upstream is a Crux gateway). Cheap to clone (shared); filled
/// by the client and read by whoever reports it (the [`crate::router::Router`], metrics, `crux bench`).
#[derive(Debug, Clone, Default)]
pub struct RetryLog(Arc<LogInner>);

#[derive(Debug, Default)]
struct LogInner {
    causes: Mutex<Vec<ErrorCode>>,
    waited_ns: AtomicU64,
    /// The upstream's `x-crux-overhead-ms` in nanoseconds, plus one (0: none seen).
    reported_ns: AtomicU64,
}

impl RetryLog {
    /// Note one retry caused by a failure with `code`.
    pub fn record(&self, code: ErrorCode) {
        if let Ok(mut v) = self.0.causes.lock() {
            v.push(code);
        }
    }

    /// The causes of every retry so far, in order.
    pub fn causes(&self) -> Vec<ErrorCode> {
        self.0.causes.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Add `d` to the time spent waiting on the upstream.
    pub fn waited(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.0.waited_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Time spent waiting on the upstream so far.
    pub fn wait(&self) -> Duration {
        Duration::from_nanos(self.0.waited_ns.load(Ordering::Relaxed))
    }

    /// Keep the overhead an upstream gateway reported in its `x-crux-overhead-ms` header.
    pub(crate) fn note_reported(&self, headers: &http::HeaderMap) {
        let ms = headers
            .get("x-crux-overhead-ms")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|ms| ms.is_finite() && *ms >= 0.0);
        if let Some(ms) = ms {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let ns = (ms * 1e6).round() as u64;
            self.0
                .reported_ns
                .store(ns.saturating_add(1), Ordering::Relaxed);
        }
    }

    /// The overhead the upstream reported about itself (`x-crux-overhead-ms`), when it is a Crux gateway.
    pub fn reported_overhead(&self) -> Option<Duration> {
        match self.0.reported_ns.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n - 1)),
        }
    }
}

/// How to reach one provider.
#[derive(Debug, Clone, Default)]
pub struct ProviderConfig {
    /// Endpoint override; `None` uses the table's public endpoint.
    pub base_url: Option<String>,
    /// API key.
    pub api_key: Option<SecretString>,
    /// Timeout override for this provider.
    pub timeouts: Option<Timeouts>,
    /// Extra headers sent on every request (e.g. OpenRouter attribution).
    pub headers: Vec<(String, String)>,
}

/// Builder for [`Client`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    providers: Vec<(ProviderId, ProviderConfig)>,
    timeouts: Timeouts,
    retry: RetryPolicy,
}

impl ClientBuilder {
    /// Configure a provider (later calls for the same provider win).
    pub fn provider(mut self, id: ProviderId, config: ProviderConfig) -> Self {
        self.providers.push((id, config));
        self
    }
    /// Default timeouts.
    pub fn timeouts(mut self, t: Timeouts) -> Self {
        self.timeouts = t;
        self
    }
    /// Retry policy.
    pub fn retry(mut self, r: RetryPolicy) -> Self {
        self.retry = r;
        self
    }
    /// Build the client and its shared connection pool (providers whose connect timeout differs from the
    /// client-wide one get a pool of their own, since reqwest sets the connect timeout per pool).
    pub fn build(self) -> Result<Client> {
        let http = fixed::http_client(self.timeouts.connect)?;
        let mut providers: Vec<ProviderConfig> = ProviderId::all()
            .iter()
            .map(|_| ProviderConfig::default())
            .collect();
        for (id, cfg) in self.providers {
            if let Some(slot) = providers.get_mut(id.index()) {
                *slot = cfg;
            }
        }
        let mut pools = Vec::with_capacity(providers.len());
        for cfg in &providers {
            pools.push(match cfg.timeouts.map(|t| t.connect) {
                Some(c) if c != self.timeouts.connect => Some(fixed::http_client(c)?),
                _ => None,
            });
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                pools,
                fixed: fixed::all_headers(&providers),
                bases: ProviderId::all()
                    .iter()
                    .zip(&providers)
                    .map(fixed::base)
                    .collect(),
                providers,
                timeouts: self.timeouts,
                retry: self.retry,
                caches: Arc::default(),
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// Per provider: its own pool when its connect timeout differs from the client-wide one.
    pools: Vec<Option<reqwest::Client>>,
    /// Per provider: the headers of every request, or why they cannot be built.
    fixed: Vec<std::result::Result<http::HeaderMap, String>>,
    /// Per provider: its base URL, parsed once (`None`: parsed per request, see [`fixed::url`]).
    bases: Vec<Option<reqwest::Url>>,
    providers: Vec<ProviderConfig>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    /// Gemini context caches, shared by every copy made with [`Client::with_key`] (keys include the API key).
    caches: Arc<context_cache::ContextCaches>,
}

/// A cheap-to-clone handle that talks to every configured provider.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// Everything needed to send one request to one provider.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub spec: &'static ProviderSpec,
    pub url: reqwest::Url,
    pub key: Option<SecretString>,
    /// Every header of the call: the provider's fixed set plus what the call adds (forwarded headers).
    pub headers: http::HeaderMap,
    pub timeouts: Timeouts,
}

impl Client {
    /// Start configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client identical to this one (same connection pool) except for `provider`'s key.
    pub fn with_key(&self, provider: ProviderId, key: Option<SecretString>) -> Client {
        let mut providers = self.inner.providers.clone();
        let mut fixed = self.inner.fixed.clone();
        if let (Some(cfg), Some(headers)) = (
            providers.get_mut(provider.index()),
            fixed.get_mut(provider.index()),
        ) {
            cfg.api_key = key;
            *headers = fixed::headers(provider.spec(), cfg);
        }
        Client {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                pools: self.inner.pools.clone(),
                fixed,
                bases: self.inner.bases.clone(),
                providers,
                timeouts: self.inner.timeouts,
                retry: self.inner.retry,
                caches: self.inner.caches.clone(),
            }),
        }
    }

    /// The connection pool serving `provider`.
    pub(crate) fn http(&self, provider: ProviderId) -> &reqwest::Client {
        self.inner
            .pools
            .get(provider.index())
            .and_then(Option::as_ref)
            .unwrap_or(&self.inner.http)
    }

    /// `provider`'s settings (the defaults for a provider registered after this client was built).
    fn config(&self, provider: ProviderId) -> &ProviderConfig {
        static NONE: ProviderConfig = ProviderConfig {
            base_url: None,
            api_key: None,
            timeouts: None,
            headers: Vec::new(),
        };
        self.inner.providers.get(provider.index()).unwrap_or(&NONE)
    }

    /// Whether `provider` has a key configured (or needs none).
    pub fn has_key(&self, provider: ProviderId) -> bool {
        provider.spec().key_optional()
            || self
                .config(provider)
                .api_key
                .as_ref()
                .is_some_and(|k| !k.expose_secret().trim().is_empty())
    }

    /// Resolve endpoint, key and timeouts for `provider` + `path`.
    pub(crate) fn target(&self, provider: ProviderId, path: &str) -> Result<Target> {
        let spec = provider.spec();
        let cfg = self.config(provider);
        let key = cfg
            .api_key
            .clone()
            .filter(|k| !k.expose_secret().trim().is_empty());
        if key.is_none() && spec.auth == crate::providers::AuthStyle::SigV4 {
            return Err(Error::Config(format!(
                "no AWS credentials for {}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN \
                 for temporary credentials), or store ACCESS_KEY_ID:SECRET_ACCESS_KEY with `crux keys set {}`",
                spec.id, spec.id
            )));
        }
        if key.is_none() && !spec.key_optional() {
            return Err(Error::Config(format!(
                "no API key for {}: set {}",
                spec.id,
                spec.key_env.join(" (or ") + if spec.key_env.len() > 1 { ")" } else { "" }
            )));
        }
        let base = cfg.base_url.as_deref().unwrap_or(spec.default_base_url);
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Config(format!(
                "invalid base URL for {} ({}): it must start with http:// or https://",
                spec.id, spec.base_url_env
            )));
        }
        let headers = self
            .inner
            .fixed
            .get(provider.index())
            .cloned()
            .unwrap_or_else(|| Err(format!("{} is not configured in this client", spec.id)))
            .map_err(Error::Config)?;
        Ok(Target {
            spec,
            url: fixed::url(self.inner.bases.get(provider.index()), base, path).map_err(|e| {
                Error::Config(format!(
                    "invalid base URL for {} ({}): {e}",
                    spec.id, spec.base_url_env
                ))
            })?,
            key,
            headers,
            timeouts: cfg.timeouts.unwrap_or(self.inner.timeouts),
        })
    }

    /// Send one chat request and wait for the whole answer.
    pub async fn chat(&self, req: &ChatRequest) -> Result<ChatResponse> {
        self.chat_logged(req, &RetryLog::default()).await
    }

    /// [`Client::chat`], noting each retry in `retries`.
    pub async fn chat_logged(&self, req: &ChatRequest, retries: &RetryLog) -> Result<ChatResponse> {
        let t0 = Instant::now();
        let provider = req.model.provider;
        let call = wire::chat_call(provider.spec(), req, false)?;
        let target = self.target(provider, &call.path)?;
        let deadline = t0 + target.timeouts.total;
        let cached = match self.cache_plan(req) {
            Some(plan) => self.use_cache(provider, &plan, deadline).await,
            None => None,
        };
        let bytes = match cached {
            Some(c) => match self.post_for_body(&target, c.body, deadline, retries).await {
                Err(e) if context_cache::is_cache_error(&e) => {
                    self.forget_cache(&c.key);
                    self.post_for_body(&target, call.body, deadline, retries)
                        .await?
                }
                sent => sent?,
            },
            None => {
                self.post_for_body(&target, call.body, deadline, retries)
                    .await?
            }
        };
        let d = wire::decode_chat(&req.model, &bytes)?;
        Ok(ChatResponse {
            id: d.id,
            model: d.model,
            provider: provider.as_str().to_owned(),
            message: d.message,
            finish: d.finish,
            usage: d.usage,
            latency: t0.elapsed(),
        })
    }

    /// Start a streamed chat. Nothing is sent until the stream is first polled; see [`ChatStream`].
    pub fn chat_stream(&self, req: &ChatRequest) -> ChatStream {
        ChatStream::start(self.clone(), req, RetryLog::default())
    }

    /// [`Client::chat_stream`], noting each retry (before the first byte) in `retries`.
    pub fn chat_stream_logged(&self, req: &ChatRequest, retries: RetryLog) -> ChatStream {
        ChatStream::start(self.clone(), req, retries)
    }

    /// Embed texts (OpenAI-wire providers, Gemini, Ollama).
    pub async fn embed(&self, req: &EmbedRequest) -> Result<EmbedResponse> {
        let t0 = Instant::now();
        let spec = req.model.provider.spec();
        let (path, body) = wire::embed_call(spec, req)?;
        let target = self.target(spec.provider, &path)?;
        let bytes = self
            .post_for_body(
                &target,
                body,
                t0 + target.timeouts.total,
                &RetryLog::default(),
            )
            .await?;
        let mut resp = wire::decode_embed(spec, &bytes)?;
        if resp.model.is_empty() {
            resp.model.clone_from(&req.model.model);
        }
        Ok(resp)
    }

    /// List the provider's models from its API, following pagination.
    pub async fn list_models(&self, provider: ProviderId) -> Result<Vec<ModelInfo>> {
        const MAX_PAGES: usize = 50;
        let spec = provider.spec();
        if spec.wire == crate::providers::Wire::Bedrock {
            return Err(wire::bedrock_models(spec));
        }
        let deadline = Instant::now() + self.target(provider, "")?.timeouts.total;
        let mut models = Vec::new();
        let mut page: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let target = self.target(provider, &wire::models_path(spec, page.as_deref()))?;
            let bytes = self.get_for_body(&target, deadline).await?;
            let (mut batch, next) = wire::decode_models(spec, &bytes)?;
            models.append(&mut batch);
            match next.filter(|n| !n.is_empty()) {
                Some(n) => page = Some(n),
                None => return Ok(models),
            }
        }
        Ok(models)
    }

    async fn post_for_body(
        &self,
        target: &Target,
        body: Bytes,
        deadline: Instant,
        retries: &RetryLog,
    ) -> Result<Bytes> {
        let resp = self.send(target, Some(body), deadline, retries).await?;
        let t = Instant::now();
        let body = read_body(target.spec.provider, resp, deadline).await;
        retries.waited(t.elapsed());
        body
    }

    async fn get_for_body(&self, target: &Target, deadline: Instant) -> Result<Bytes> {
        let resp = self
            .send(target, None, deadline, &RetryLog::default())
            .await?;
        read_body(target.spec.provider, resp, deadline).await
    }
}

/// Read a whole success body within the deadline.
async fn read_body(
    provider: ProviderId,
    resp: reqwest::Response,
    deadline: Instant,
) -> Result<Bytes> {
    match tokio::time::timeout_at(deadline.into(), resp.bytes()).await {
        Err(_) => Err(Error::Timeout {
            provider,
            phase: TimeoutPhase::Total,
        }),
        Ok(Err(e)) => Err(Error::Transport {
            provider,
            message: send::describe(&e),
        }),
        Ok(Ok(b)) => Ok(b),
    }
}
