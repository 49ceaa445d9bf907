//! crux-mock: a real HTTP server that pretends to be an LLM provider (OpenAI Chat Completions
//! wire), with deterministic replies, scripted faults and request/stream recording.
//!
//! Layout: a wire-neutral core at the top level (conversation model and reply generation in
//! `reply`/`schema`, faults in `faults` with their `times=N` counters in `counters`, recording in
//! `record`, the usage ledger entry in `usage`, paced stream playback in `stream`, shared HTTP
//! plumbing in `http`, per-server state in `state`) and one folder per wire: `openai/`,
//! `anthropic/`, `responses/`, `gemini/`, `ollama/`, `bedrock/`, each with its handlers in `mod.rs`,
//! request validation → neutral conversation in `parse`, and JSON/SSE/error output in `render`.
//!
//! Routes (each also without the `/v1` prefix): `POST /v1/chat/completions`,
//! `GET /v1/models`, `GET /v1/models/{id}`, `POST /v1/embeddings`; Azure OpenAI deployments
//! `POST /openai/deployments/{deployment}/chat/completions?api-version=…` (`api-key` header;
//! `openai::azure`); control routes
//! `GET|DELETE /_mock/requests` and `GET /_mock/streams` (never recorded).
//!
//! Anthropic Messages (`anthropic::messages`/`anthropic::parse` → neutral,
//! `anthropic::render`, `anthropic` handlers): `POST /v1/messages` (`x-api-key` +
//! `anthropic-version` required, Anthropic error bodies, named SSE events ending in
//! `message_stop`, thinking blocks whose signatures are checked against those issued in
//! `signatures`); `GET /v1/models` and
//! `GET /v1/models/{id}` answer Anthropic-shaped (paginated with `limit`/`after_id`/`before_id`)
//! when the request carries `anthropic-version`. OpenAI Responses (`responses::parse`,
//! `responses::render`, `responses`): `POST /v1/responses` (bearer auth, OpenAI error bodies,
//! sequence-numbered `response.*` events ending in `response.completed`/`response.incomplete`).
//! Shared HTTP plumbing and the parse → faults → reply → deliver flow live in `http`.
//!
//! Gemini (`gemini::parse`/`gemini::config`/`gemini::schema` → neutral, `gemini::render`,
//! `gemini` handlers; no `/v1` aliases): `GET /v1beta/models` (`pageSize`/`pageToken`),
//! `GET /v1beta/models/{model}`, `POST /v1beta/models/{model}:{action}` for `generateContent`,
//! `streamGenerateContent` (`?alt=sse`: CRLF SSE without sentinel, the finishing chunk carries
//! `finishReason` + `usageMetadata`; otherwise a streamed JSON array), `countTokens`,
//! `embedContent`, `batchEmbedContents`; `POST /v1beta/cachedContents` (`gemini::cache`, stored in `cached`:
//! model required, the per-model minimum size, `ttl`; `generateContent` with `cachedContent` prepends the cache and
//! reports `cachedContentTokenCount`, refuses `systemInstruction`/`tools`/`toolConfig` beside it and answers 403 for
//! an unknown or expired name). Key in `x-goog-api-key` (or `?key=`, recorded in the
//! query); Google RPC error bodies (bad key = 400 `API_KEY_INVALID`); OpenAPI-subset schema and
//! proto unknown-field checks; function calls carry thought signatures from `signatures`,
//! required back for `gemini-3*` models. Ollama native (`ollama::parse`, `ollama::render`,
//! `ollama` handlers; no auth): `POST /api/chat` (NDJSON stream by default, ending with the
//! `done: true` statistics line; `stream: false` → one object), `GET /api/tags`,
//! `POST /api/embed`, `POST /api/show`, `GET /api/version`; `{"error": "..."}` bodies. Small
//! shared helpers: `clock` (RFC 3339 and AWS basic-format dates), `b64` (base64 payload validation).
//!
//! AWS Bedrock Runtime Converse (`bedrock::parse`/`bedrock::content` → neutral, `bedrock::render`,
//! `bedrock::eventstream`, `bedrock` handlers; no `/v1` aliases): `POST /model/{modelId}/converse`
//! (one JSON answer with `stopReason`, `usage` — `cacheReadInputTokens` beside `inputTokens`, which then excludes
//! them — and `metrics`) and `POST /model/{modelId}/converse-stream` (`application/vnd.amazon.eventstream` binary
//! frames: `messageStart`, `contentBlockStart`/`contentBlockDelta`/`contentBlockStop`, `messageStop`, ending with
//! `metadata`; `mid_error` sends a `modelStreamErrorException` frame); the model id is percent-decoded from the path
//! and one containing `missing` is a 404. Authentication comes first, as upstream (`bedrock::sigv4`): a SigV4
//! `Authorization: AWS4-HMAC-SHA256 …` header with `x-amz-date` (within 5 minutes; `host` and any
//! `x-amz-security-token` signed; scope `…/bedrock/aws4_request`; path encoded twice in the canonical request),
//! verified against [`AWS_SECRET_ACCESS_KEY`] for any access key id but `bad-key`, or a Bedrock API key
//! `Authorization: Bearer …`; failures are 403 (`MissingAuthenticationTokenException`,
//! `UnrecognizedClientException`, `InvalidSignatureException`, `IncompleteSignatureException`). Errors are
//! `{"message": …}` named by `x-amzn-ErrorType: Name:http://internal.amazon.com/coral/…/`; strict validation
//! (unknown members, ContentBlock unions, alternation, toolUse/toolResult pairing) answers 400
//! `ValidationException`.
//!
//! Fault specs come from the `x-mock-fault` header and/or `[[mock SPEC]]` directives in the last
//! user message (directives are removed from the prompt). Items are separated by commas or
//! whitespace: `status=CODE`, `retry_after=SECS`, `retry_after_ms=MS`, `should_retry=BOOL`,
//! `times=N`, `key=NAME`, `first_byte_ms=MS`, `stall_after=N`, `stall_ms=MS`, `cut_after=N`,
//! `truncate_after=N`, `delay=MS`, `cache_read=N` (prompt tokens reported as cache reads, on
//! wires that report them), and the flags `invalid_json`, `mid_error`. Unknown keys are a 400.
//!
//! Models lacking a capability (`refuse`): a model id containing the segment `no-tools`, `no-json`, `no-system` or
//! `no-stream-usage` (e.g. `openai/mock-no-tools`) rejects every request that uses it with the real API's 400 —
//! OpenAI `{"error":{"type":"invalid_request_error","param":"tools","code":"unsupported_parameter",…}}` (system:
//! `param: "messages[0].role"`, `code: "unsupported_value"`), Gemini `INVALID_ARGUMENT` "Function calling / Json mode /
//! Developer instruction is not enabled for models/…", Ollama "… does not support tools".
//!
//! Tool replies: with tools offered, the mock calls the first tool whose name appears in the last user message (or
//! the first tool when that message says "tool"); after a tool result it answers `Tool result received: …`. With
//! `[[chain]]` in the last user message it instead calls the tools named there one per turn, in the order they are
//! first named (the `k`-th after `k` tool results), and answers only after the last one — a multi-round tool task.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod anthropic;
mod b64;
mod bedrock;
mod cached;
mod clock;
mod counters;
mod embed;
mod errors;
mod faults;
mod gemini;
mod http;
mod ollama;
mod openai;
mod record;
mod refuse;
mod reply;
mod responses;
mod schema;
mod signatures;
mod state;
mod stream;
mod usage;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use record::{RecordedRequest, StreamRecord};
pub use usage::ReportedUsage;

use state::Shared;

/// The AWS secret access key the mock's Bedrock wire verifies SigV4 signatures with, for every access key id
/// (except `bad-key`, which is unknown): sign requests with it (any access key id, any region, service
/// `bedrock`) to pass authentication.
pub const AWS_SECRET_ACCESS_KEY: &str = "crux-mock-aws-secret";

/// Largest request body the mock buffers (bigger bodies get 413).
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A running mock provider server; dropping it shuts the server down.
#[derive(Debug)]
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Starts a server on `127.0.0.1` with an OS-assigned port.
    pub async fn start() -> std::io::Result<MockServer> {
        Self::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts a server bound to `addr`.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let (tx, rx) = oneshot::channel::<()>();
        let task_shared = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            let signal = async move {
                let _ = rx.await;
            };
            if let Err(e) = serve_shared(listener, task_shared, signal).await {
                tracing::warn!(error = %e, "crux-mock server stopped with an error");
            }
        });
        Ok(MockServer {
            shared,
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of the host root, e.g. `http://127.0.0.1:PORT` (no trailing slash); an
    /// unspecified bind address is reported as loopback.
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// Every request received (except `/_mock/*`), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorder.requests()
    }

    /// One record per streamed response, added once that stream ended.
    pub fn streams(&self) -> Vec<StreamRecord> {
        self.shared.recorder.streams()
    }

    /// The usage of every answer so far, in order (see [`ReportedUsage`]).
    pub fn reported_usage(&self) -> Vec<ReportedUsage> {
        self.shared.reported_usage()
    }

    /// Names of the live Gemini `cachedContents` created on this server, sorted.
    pub fn cached_contents(&self) -> Vec<String> {
        self.shared.cached_contents.names()
    }

    /// Drops every Gemini `cachedContents` entry, as if each had expired.
    pub fn expire_cached_contents(&self) {
        self.shared.cached_contents.clear();
    }

    /// Clears recorded requests, stream records, `times=N` fault counters and the usage ledger (Gemini's cached
    /// contents stay until they expire, see [`MockServer::expire_cached_contents`]).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Waits until at least `n` stream records exist; false if `timeout` passes first.
    pub async fn wait_for_streams(&self, n: usize, timeout: Duration) -> bool {
        self.shared.recorder.wait_for_streams(n, timeout).await
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shared.shut_down();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// Serve on an existing listener until `shutdown` resolves (used by `crux mock`).
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_shared(listener, Arc::new(Shared::default()), shutdown).await
}

async fn serve_shared(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(Arc::clone(&shared));
    let signal = async move {
        shutdown.await;
        shared.shut_down();
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .await
}

/// All routes of the mock, with request recording.
fn router(shared: Arc<Shared>) -> Router {
    let mut app = Router::new();
    for prefix in ["", "/v1"] {
        app = app
            .route(
                &format!("{prefix}/chat/completions"),
                post(openai::chat_completions),
            )
            .route(&format!("{prefix}/models"), get(anthropic::list_models))
            .route(
                &format!("{prefix}/models/{{id}}"),
                get(anthropic::get_model),
            )
            .route(&format!("{prefix}/messages"), post(anthropic::messages))
            .route(
                &format!("{prefix}/messages/count_tokens"),
                post(anthropic::count_tokens),
            )
            .route(&format!("{prefix}/responses"), post(responses::create))
            .route(&format!("{prefix}/embeddings"), post(openai::embeddings));
    }
    app = app
        .route("/v1beta/models", get(gemini::list_models))
        .route(
            "/v1beta/cachedContents",
            post(gemini::create_cached_content),
        )
        .route(
            "/v1beta/models/{*rest}",
            get(gemini::get_model).post(gemini::model_action),
        )
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            post(openai::azure::chat_completions),
        )
        .route("/api/chat", post(ollama::chat))
        .route("/api/tags", get(ollama::tags))
        .route("/api/embed", post(ollama::embed))
        .route("/api/show", post(ollama::show))
        .route("/api/version", get(ollama::version))
        .route("/model/{model_id}/converse", post(bedrock::converse))
        .route("/model/{model_id}/converse-stream", post(bedrock::converse));
    app.route("/_mock/requests", get(mock_requests).delete(mock_reset))
        .route("/_mock/streams", get(mock_streams))
        .fallback(openai::not_found)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            record_request,
        ))
        .with_state(shared)
}

/// Records every request outside `/_mock/*` before handing it on.
async fn record_request(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/_mock/") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("mock: cannot read body: {e}"),
            )
                .into_response();
        }
    };
    shared.recorder.push_request(RecordedRequest::new(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query(),
        &parts.headers,
        &bytes,
    ));
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// `GET /_mock/requests`.
async fn mock_requests(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.recorder.requests()).into_response()
}

/// `DELETE /_mock/requests`: clears recordings and fault counters.
async fn mock_reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.reset();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_mock/streams`.
async fn mock_streams(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.recorder.streams()).into_response()
}
