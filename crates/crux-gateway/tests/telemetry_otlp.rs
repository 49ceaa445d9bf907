//! OTLP/HTTP traces and metrics against a collector on loopback that decodes the protobuf with the official
//! OpenTelemetry definitions (`opentelemetry-proto`): one server span per request after the GenAI conventions,
//! parented on the caller's `traceparent`, a client child span per upstream attempt, and the context sent upstream.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use crux_gateway::GatewayConfig;
use crux_gateway::telemetry::{OtlpConfig, TelemetryConfig};
use crux_llm::breaker::Clock;
use harness::Gateway;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric, number_data_point};
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind};
use prost::Message as _;
use serde_json::json;

#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    metrics: Vec<Metric>,
}

type Shared = Arc<Mutex<Received>>;

async fn traces(State(r): State<Shared>, body: Bytes) -> &'static str {
    let req = ExportTraceServiceRequest::decode(body).expect("a valid OTLP trace request");
    let mut r = r.lock().unwrap();
    for rs in req.resource_spans {
        for ss in rs.scope_spans {
            r.spans.extend(ss.spans);
        }
    }
    ""
}

async fn metrics(State(r): State<Shared>, body: Bytes) -> &'static str {
    let req = ExportMetricsServiceRequest::decode(body).expect("a valid OTLP metrics request");
    let mut r = r.lock().unwrap();
    for rm in req.resource_metrics {
        for sm in rm.scope_metrics {
            r.metrics.extend(sm.metrics);
        }
    }
    ""
}

/// A collector on its own thread and runtime (the SDK's exporter threads block while they send).
fn collector() -> (std::net::SocketAddr, Shared) {
    let shared = Shared::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::clone(&shared);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new()
                .route("/v1/traces", post(traces))
                .route("/v1/metrics", post(metrics))
                .with_state(state);
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (addr, shared)
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a any_value::Value> {
    span.attributes
        .iter()
        .find(|kv: &&KeyValue| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn text(span: &Span, key: &str) -> Option<String> {
    match attr(span, key) {
        Some(any_value::Value::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "current_thread")]
async fn otlp_traces_and_metrics_reach_a_collector() {
    let (addr, got) = collector();
    let cfg = OtlpConfig {
        endpoint: format!("http://{addr}"),
        interval: Duration::from_millis(100),
        service_name: "crux-test".into(),
        metrics: true,
    };
    let config = GatewayConfig {
        telemetry: TelemetryConfig {
            otlp: Some(cfg.clone()),
            ..TelemetryConfig::default()
        },
        ..GatewayConfig::default()
    };
    let g = Gateway::start_with(config, &[], Clock::default()).await;
    let resp = g
        .http
        .post(g.url("/v1/chat/completions"))
        .bearer_auth("k")
        .header("traceparent", format!("00-{TRACE}-{PARENT}-01"))
        .header("content-type", "application/json")
        .body(
            json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "trace me"}]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sent = g.mock.requests();
    let upstream = sent
        .iter()
        .flat_map(|r| r.headers.iter())
        .find(|(k, _)| k == "traceparent")
        .map(|(_, v)| v.clone())
        .expect("traceparent sent upstream");
    assert!(upstream.starts_with(&format!("00-{TRACE}-")), "{upstream}");
    assert!(
        !upstream.contains(PARENT),
        "the upstream gets the gateway's span, not the caller's: {upstream}"
    );

    g.state.telemetry.flush();
    let mut spans = Vec::new();
    for _ in 0..100 {
        spans = got.lock().unwrap().spans.clone();
        if spans.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let server = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap_or_else(|| panic!("no server span in {spans:?}"));
    assert_eq!(hex(&server.trace_id), TRACE);
    assert_eq!(hex(&server.parent_span_id), PARENT);
    assert_eq!(server.name, "chat openai/gpt-4o-mini");
    assert_eq!(
        text(server, "gen_ai.operation.name").as_deref(),
        Some("chat")
    );
    assert_eq!(
        text(server, "gen_ai.provider.name").as_deref(),
        Some("openai")
    );
    assert_eq!(
        text(server, "gen_ai.request.model").as_deref(),
        Some("openai/gpt-4o-mini")
    );
    assert_eq!(
        text(server, "gen_ai.response.model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert!(
        matches!(attr(server, "gen_ai.usage.input_tokens"), Some(any_value::Value::IntValue(n)) if *n > 0),
        "{:?}",
        server.attributes
    );
    assert!(
        matches!(attr(server, "gen_ai.usage.output_tokens"), Some(any_value::Value::IntValue(n)) if *n > 0)
    );
    assert!(
        matches!(attr(server, "gen_ai.response.finish_reasons"), Some(any_value::Value::ArrayValue(a)) if a.values.len() == 1),
        "{:?}",
        server.attributes
    );
    let attempt = spans
        .iter()
        .find(|s| s.kind == SpanKind::Client as i32)
        .unwrap_or_else(|| panic!("no attempt span in {spans:?}"));
    assert_eq!(attempt.parent_span_id, server.span_id);
    assert_eq!(
        text(attempt, "gen_ai.provider.name").as_deref(),
        Some("openai")
    );
    assert!(upstream.contains(&hex(&attempt.span_id)), "{upstream}");

    // Cumulative exports repeat every series; the last one seen of each name is the newest.
    let latest = |name: &str| {
        got.lock()
            .unwrap()
            .metrics
            .iter()
            .rev()
            .find(|m| m.name == name)
            .cloned()
    };
    for _ in 0..100 {
        if latest("crux_requests_total").is_some()
            && latest("crux_request_duration_seconds").is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let requests = latest("crux_requests_total").expect("crux_requests_total exported");
    let Some(metric::Data::Sum(sum)) = &requests.data else {
        panic!("{requests:?}")
    };
    assert!(sum.is_monotonic);
    let served = sum.data_points.iter().find(|p| {
        p.attributes
            .iter()
            .any(|kv| kv.key == "provider" && format!("{:?}", kv.value).contains("openai"))
    });
    assert!(
        matches!(
            served.and_then(|p| p.value),
            Some(number_data_point::Value::AsInt(1))
        ),
        "one request counted with its provider label: {sum:?}"
    );
    let durations =
        latest("crux_request_duration_seconds").expect("crux_request_duration_seconds exported");
    let Some(metric::Data::Histogram(h)) = &durations.data else {
        panic!("{durations:?}")
    };
    let p = h.data_points.first().expect("a histogram point");
    assert_eq!(p.count, 1, "{h:?}");
    assert!(
        p.explicit_bounds.len() > 3,
        "the catalogue's buckets: {h:?}"
    );
    assert_eq!(p.bucket_counts.iter().sum::<u64>(), 1);
}
