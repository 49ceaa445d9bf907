//! Test harness: a `crux-mock` upstream and a gateway on ephemeral loopback ports.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crux_gateway::{AppState, GatewayConfig};
use crux_llm::breaker::Clock;
use crux_llm::{Client, ProviderConfig, ProviderId, RetryPolicy, Timeouts, Wire};
use crux_mock::MockServer;

/// The provider key the gateway holds (never the client's).
pub const PROVIDER_KEY: &str = "provider-key-123";

/// A running gateway in front of a mock.
pub struct Gateway {
    pub mock: MockServer,
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Every provider pointed at the mock, except `dead` ones pointed at a closed port.
pub fn client(mock: &MockServer, dead: &[ProviderId]) -> Client {
    client_retrying(mock, dead, 0)
}

/// [`client`] with `retries` quick retries.
pub fn client_retrying(mock: &MockServer, dead: &[ProviderId], retries: u32) -> Client {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut b = Client::builder()
        .retry(RetryPolicy {
            max_retries: retries,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            ..RetryPolicy::default()
        })
        .timeouts(Timeouts {
            idle: Duration::from_millis(500),
            ..Timeouts::default()
        });
    for p in ProviderId::all() {
        let base = if dead.contains(&p) {
            format!("http://{closed}")
        } else {
            match p.spec().wire {
                Wire::OpenAi | Wire::Responses => format!("{}/v1", mock.url()),
                _ => mock.url(),
            }
        };
        b = b.provider(
            p,
            ProviderConfig {
                base_url: Some(base),
                api_key: Some(PROVIDER_KEY.into()),
                ..Default::default()
            },
        );
    }
    b.build().unwrap()
}

impl Gateway {
    /// Start with `config`, dead providers, and a breaker clock.
    pub async fn start_with(config: GatewayConfig, dead: &[ProviderId], clock: Clock) -> Gateway {
        let mock = MockServer::start().await.unwrap();
        let state = AppState::with_clock(client(&mock, dead), config, clock);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(crux_gateway::serve(listener, Arc::clone(&state), async {
            let _ = rx.await;
        }));
        Gateway {
            mock,
            addr,
            state,
            http: reqwest::Client::new(),
            stop: Some(tx),
        }
    }

    /// Start with defaults.
    pub async fn start() -> Gateway {
        Self::start_with(GatewayConfig::default(), &[], Clock::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POST JSON with a client key; returns status, headers and body text.
    pub async fn post(
        &self,
        path: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap())
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, String) {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

/// Parse `data:` payloads (and event names) from an SSE body.
pub fn sse(body: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    for block in body.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut event = None;
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(e) = line.strip_prefix("event: ") {
                event = Some(e.to_owned());
            } else if let Some(d) = line.strip_prefix("data: ") {
                data.push(d);
            }
        }
        out.push((event, data.join("\n")));
    }
    out
}

/// A gateway with a SQLite store in a temp dir, a write queue and a vault key.
pub struct Stored {
    pub gateway: Gateway,
    pub store: crux_store::Store,
    pub queue: Option<crux_store::WriteQueue>,
    pub dir: tempfile::TempDir,
}

impl Stored {
    pub async fn start(master: Option<&str>) -> Stored {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("crux.db").display());
        Self::start_url(&url, master, dir).await
    }

    /// A gateway on the store at `url` (several may share one store).
    pub async fn start_url(url: &str, master: Option<&str>, dir: tempfile::TempDir) -> Stored {
        let config = GatewayConfig {
            master_key: master.map(Into::into),
            ..GatewayConfig::default()
        };
        Self::start_full(url, config, &[], 0, dir).await
    }

    /// A gateway with `config` on a fresh SQLite store, `dead` providers unreachable, `retries` quick retries.
    pub async fn start_config(config: GatewayConfig, dead: &[ProviderId], retries: u32) -> Stored {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("crux.db").display());
        Self::start_full(&url, config, dead, retries, dir).await
    }

    async fn start_full(
        url: &str,
        config: GatewayConfig,
        dead: &[ProviderId],
        retries: u32,
        dir: tempfile::TempDir,
    ) -> Stored {
        let store = crux_store::Store::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        let queue = crux_store::WriteQueue::spawn(
            store.clone(),
            crux_store::QueueConfig {
                flush_interval: Duration::from_millis(5),
                ..Default::default()
            },
        );
        let persistence = crux_gateway::state::Persistence {
            store: Some(store.clone()),
            log: Some(queue.sender()),
            vault: Some(crux_store::VaultKey::generate().unwrap()),
            env_keys: Vec::new(),
        };
        let mock = MockServer::start().await.unwrap();
        let client = client_retrying(&mock, dead, retries);
        let state = AppState::build(client, config, Clock::default(), persistence);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(crux_gateway::serve(listener, Arc::clone(&state), async {
            let _ = rx.await;
        }));
        let gateway = Gateway {
            mock,
            addr,
            state,
            http: reqwest::Client::new(),
            stop: Some(tx),
        };
        Stored {
            gateway,
            store,
            queue: Some(queue),
            dir,
        }
    }

    /// Drain the write queue so everything enqueued so far is stored.
    pub async fn drain(&mut self) -> crux_store::QueueStats {
        self.queue.take().unwrap().shutdown().await
    }
}

/// `RequestBuilder::json` needs reqwest's `json` feature; send JSON bytes instead.
pub trait JsonBody {
    fn json_body(self, v: &serde_json::Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, v: &serde_json::Value) -> Self {
        self.header("content-type", "application/json")
            .body(serde_json::to_vec(v).unwrap())
    }
}
