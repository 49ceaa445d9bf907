//! Maps the rows of a legacy file (both schemas) to crux rows: keys, prefs, metric points, chat logs, registry
//! rows and observed capabilities, each metric and chat log tagged with an `import_key` for idempotent re-runs.

use crux_llm::Usage;
use serde_json::Value as Json;

use crate::error::Result;
use crate::legacy_read::{LegacyFile, LegacyKey, normalize_capabilities, normalize_context_length};
use crate::legacy_report::LegacyReport;
use crate::logs::{ChatLog, LogStatus, chat_values};
use crate::metrics::{MetricPoint, metric_values};
use crate::migrate::hex;
use crate::redact::Redactor;
use crate::registry::{ModelRecord, model_values};
use crate::row::{RowExt, Value, to_u64};
use crate::time::{now_ms, parse_iso};

/// Everything read from a legacy file, as crux rows.
#[derive(Default)]
pub(crate) struct LegacyData {
    pub(crate) keys: Vec<LegacyKey>,
    pub(crate) prefs: Vec<(String, Json)>,
    pub(crate) metrics: Vec<Vec<Value>>,
    pub(crate) chat_logs: Vec<Vec<Value>>,
    pub(crate) models: Vec<Vec<Value>>,
    pub(crate) meta: Vec<Vec<Value>>,
    pub(crate) observed: Vec<Vec<Value>>,
}

/// `legacy:` + the first 128 bits of SHA-256 over the row's fields.
fn import_key(parts: &[String]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, parts.join("\u{1f}").as_bytes());
    format!("legacy:{}", hex(&d.as_ref()[..16]))
}

/// Epoch ms of a legacy timestamp; naive values are UTC, unreadable ones become the epoch (as the original did).
fn legacy_ts(raw: Option<&str>, unreadable: &mut u64) -> i64 {
    match raw.and_then(parse_iso) {
        Some(ms) => ms,
        None => {
            *unreadable += 1;
            0
        }
    }
}

fn text_or(r: &impl RowExt, col: &str, default: &str) -> Result<String> {
    Ok(r.opt_text(col)?
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| default.to_owned()))
}

/// Reads every recognised table of `file`, marking in `report` which schemas were seen.
pub(crate) async fn read(
    file: &mut LegacyFile,
    report: &mut LegacyReport,
    redactor: Option<&Redactor>,
) -> Result<LegacyData> {
    let mut d = LegacyData::default();
    let mut bad_ts = 0;
    // Schema A keeps keys in `api_keys.key`, schema B in `keys.api_key`.
    for (table, column, schema_b) in [("api_keys", "key", false), ("keys", "api_key", true)] {
        if !file.has(table, &["provider", column]) {
            continue;
        }
        if schema_b {
            report.schema_b = true;
        } else {
            report.schema_a = true;
        }
        for r in file
            .rows(table, &["provider", column, "updated_at"])
            .await?
        {
            d.keys.push(LegacyKey {
                provider: r.text("provider")?,
                key: r.opt_text(column)?.unwrap_or_default(),
                updated_at: r.opt_text("updated_at")?,
            });
        }
    }
    if file.has("prefs", &["name", "value"]) {
        report.schema_a = true;
        for r in file.rows("prefs", &["name", "value"]).await? {
            let raw = r.opt_text("value")?.unwrap_or_default();
            let value = serde_json::from_str(&raw).unwrap_or(Json::String(raw));
            d.prefs.push((r.text("name")?, value));
        }
    } else if file.has("prefs", &["values_json"]) {
        report.schema_b = true;
        for r in file.rows("prefs", &["values_json"]).await? {
            match serde_json::from_str::<Json>(&r.opt_text("values_json")?.unwrap_or_default()) {
                Ok(Json::Object(map)) => d.prefs.extend(map),
                _ => report
                    .notes
                    .push("schema B prefs row is not a JSON object; skipped".into()),
            }
        }
    }
    if file.has("metrics", &["ts", "duration_ms"]) {
        report.schema_a = true;
        let cols = [
            "id",
            "ts",
            "provider",
            "model",
            "duration_ms",
            "status",
            "error_type",
            "tokens_in",
            "tokens_out",
        ];
        for r in file.rows("metrics", &cols).await? {
            let raw: Vec<String> = cols
                .iter()
                .map(|c| r.opt_text(c).map(Option::unwrap_or_default))
                .collect::<Result<_>>()?;
            let error_type = r.opt_text("error_type")?.filter(|s| !s.is_empty());
            let status = match r.opt_text("status")?.as_deref() {
                Some("ok") => LogStatus::Ok,
                Some("error") => LogStatus::Error,
                _ if error_type.is_some() => LogStatus::Error,
                _ => LogStatus::Ok,
            };
            let (p, c) = (
                r.opt_int("tokens_in")?.map(to_u64),
                r.opt_int("tokens_out")?.map(to_u64),
            );
            let point = MetricPoint {
                ts_ms: legacy_ts(r.opt_text("ts")?.as_deref(), &mut bad_ts),
                provider: text_or(&r, "provider", "unknown")?,
                model: text_or(&r, "model", "unknown")?,
                route: "legacy".into(),
                status,
                error_code: error_type,
                latency_ms: r.opt_int("duration_ms")?.map_or(0, to_u64),
                ttft_ms: None,
                prompt_tokens: p,
                completion_tokens: c,
                total_tokens: p.zip(c).map(|(a, b)| a + b),
                cost_usd: None,
                virtual_key_id: None,
            };
            d.metrics.push(metric_values(
                &point,
                Some(import_key(&[vec!["A/metrics".to_owned()], raw].concat())),
            ));
        }
    } else if file.has("metrics", &["latency_ms", "success"]) {
        report.schema_b = true;
        let cols = [
            "id",
            "provider",
            "model",
            "latency_ms",
            "tokens_prompt",
            "tokens_completion",
            "success",
            "error_code",
            "created_at",
        ];
        for r in file.rows("metrics", &cols).await? {
            let raw: Vec<String> = cols
                .iter()
                .map(|c| r.opt_text(c).map(Option::unwrap_or_default))
                .collect::<Result<_>>()?;
            let ok = r.opt_int("success")?.unwrap_or(1) != 0;
            let (p, c) = (
                r.opt_int("tokens_prompt")?.map(to_u64),
                r.opt_int("tokens_completion")?.map(to_u64),
            );
            let point = MetricPoint {
                ts_ms: legacy_ts(r.opt_text("created_at")?.as_deref(), &mut bad_ts),
                provider: text_or(&r, "provider", "unknown")?,
                model: text_or(&r, "model", "unknown")?,
                route: "legacy".into(),
                status: if ok { LogStatus::Ok } else { LogStatus::Error },
                error_code: r.opt_text("error_code")?.filter(|s| !s.is_empty()),
                latency_ms: r.opt_int("latency_ms")?.map_or(0, to_u64),
                ttft_ms: None,
                prompt_tokens: p,
                completion_tokens: c,
                total_tokens: p.zip(c).map(|(a, b)| a + b),
                cost_usd: None,
                virtual_key_id: None,
            };
            d.metrics.push(metric_values(
                &point,
                Some(import_key(&[vec!["B/metrics".to_owned()], raw].concat())),
            ));
        }
    }
    if file.has("chat_logs", &["role_user", "metadata_json"]) {
        report.schema_b = true;
        let cols = [
            "id",
            "provider",
            "model",
            "role_user",
            "role_assistant",
            "metadata_json",
            "created_at",
        ];
        for r in file.rows("chat_logs", &cols).await? {
            let raw: Vec<String> = cols
                .iter()
                .map(|c| r.opt_text(c).map(Option::unwrap_or_default))
                .collect::<Result<_>>()?;
            let mut log = chat_from_b(&r, &mut bad_ts)?;
            if let Some(red) = redactor {
                log.redact(red);
            }
            d.chat_logs.push(chat_values(
                &log,
                Some(import_key(&[vec!["B/chat_logs".to_owned()], raw].concat())),
            ));
        }
    }
    if file.has("model_registry", &["provider", "model_id"]) {
        report.schema_a = true;
        let cols = [
            "provider",
            "model_id",
            "name",
            "family",
            "context_length",
            "capabilities",
            "updated_at",
        ];
        for r in file.rows("model_registry", &cols).await? {
            let id = r.text("model_id")?;
            let m = ModelRecord {
                name: r
                    .opt_text("name")?
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| id.clone()),
                id,
                family: r.opt_text("family")?,
                context_length: normalize_context_length(r.opt_text("context_length")?.as_deref()),
                capabilities: normalize_capabilities(r.opt_text("capabilities")?),
                updated_at: r.opt_text("updated_at")?,
            };
            d.models.push(model_values(&r.text("provider")?, &m));
        }
    }
    if file.has("model_registry_meta", &["provider", "fetched_at"]) {
        report.schema_a = true;
        for r in file
            .rows(
                "model_registry_meta",
                &["provider", "fetched_at", "fetched_via", "metadata"],
            )
            .await?
        {
            let fetched = r
                .opt_text("fetched_at")?
                .as_deref()
                .and_then(parse_iso)
                .unwrap_or_else(now_ms);
            let metadata = r
                .opt_text("metadata")?
                .map(|m| serde_json::from_str::<Json>(&m).map_or(m, |j| j.to_string()));
            d.meta.push(vec![
                Value::Text(Some(r.text("provider")?)),
                Value::Int(Some(fetched)),
                Value::Text(Some(text_or(&r, "fetched_via", "api")?)),
                Value::Text(metadata),
            ]);
        }
    }
    if file.has(
        "observed_capabilities",
        &["provider", "model_id", "feature", "value"],
    ) {
        report.schema_a = true;
        for r in file
            .rows(
                "observed_capabilities",
                &["provider", "model_id", "feature", "value", "updated_at"],
            )
            .await?
        {
            d.observed.push(vec![
                Value::Text(Some(r.text("provider")?)),
                Value::Text(Some(r.text("model_id")?)),
                Value::Text(Some(r.text("feature")?)),
                Value::Bool(Some(r.opt_int("value")?.unwrap_or(0) != 0)),
                Value::Int(Some(legacy_ts(
                    r.opt_text("updated_at")?.as_deref(),
                    &mut bad_ts,
                ))),
            ]);
        }
    }
    if bad_ts > 0 {
        report.notes.push(format!(
            "{bad_ts} unreadable timestamps were stored as 1970-01-01T00:00:00Z"
        ));
    }
    Ok(d)
}

/// A schema B chat log: the user and assistant text, with latency, usage and errors taken from its metadata.
fn chat_from_b(r: &impl RowExt, bad_ts: &mut u64) -> Result<ChatLog> {
    let meta = r
        .opt_text("metadata_json")?
        .map(|m| serde_json::from_str::<Json>(&m).unwrap_or(Json::String(m)));
    let get = |k: &str| meta.as_ref().and_then(|m| m.get(k));
    let num = |v: Option<&Json>| v.and_then(Json::as_u64);
    let usage_obj = get("token_usage").or_else(|| get("usage"));
    let u = |a: &str, b: &str| num(usage_obj.and_then(|o| o.get(a).or_else(|| o.get(b))));
    let error = get("error").filter(|e| !e.is_null());
    let mut log = ChatLog::new(
        text_or(r, "provider", "unknown")?,
        text_or(r, "model", "unknown")?,
        "legacy",
        if error.is_some() {
            LogStatus::Error
        } else {
            LogStatus::Ok
        },
        num(get("latency_ms")).unwrap_or(0),
    );
    log.ts_ms = legacy_ts(r.opt_text("created_at")?.as_deref(), bad_ts);
    log.error_code = error.map(|_| {
        get("code")
            .or_else(|| get("error_code"))
            .and_then(Json::as_str)
            .unwrap_or("unknown")
            .to_owned()
    });
    log.usage = Usage {
        prompt: u("prompt", "prompt_tokens"),
        completion: u("completion", "completion_tokens"),
        total: u("total", "total_tokens"),
        ..Usage::default()
    };
    log.request_text = r.opt_text("role_user")?;
    log.response_text = r.opt_text("role_assistant")?;
    log.metadata = meta;
    Ok(log)
}
