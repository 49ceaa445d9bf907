//! The benchmark summary for people: one header line, a table of latency and TTFT percentiles (milliseconds), and
//! lines for throughput, errors by code and the warmup (reported apart, never part of the stats).

use std::io::Write;

use super::Report;
use super::stats::{Percentiles, Phase};
use crate::exit::Failure;
use crate::output::{io_failure, print_table};
use crate::style::Style;

fn ms(v: f64) -> String {
    format!("{v:.1}")
}

fn row(name: &str, p: &Percentiles) -> Vec<String> {
    let mut r = vec![name.to_owned()];
    r.extend([p.min, p.p50, p.p90, p.p95, p.p99, p.max, p.mean].map(ms));
    r
}

fn errors(phase: &Phase) -> String {
    if phase.errors.is_empty() {
        return "none".to_owned();
    }
    let parts: Vec<String> = phase
        .errors
        .iter()
        .map(|(code, n)| format!("{code} {n}"))
        .collect();
    parts.join(", ")
}

fn phase_rows(prefix: &str, phase: &Phase) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    if let Some(p) = &phase.latency_ms {
        rows.push(row(&format!("{prefix}latency ms"), p));
    }
    if let Some(p) = &phase.ttft_ms {
        rows.push(row(&format!("{prefix}ttft ms"), p));
    }
    rows
}

/// Print `report` on stdout.
pub fn print(report: &Report) -> Result<(), Failure> {
    let style = Style::stdout();
    let mut out = std::io::stdout().lock();
    let m = &report.measured;
    let mode = if report.stream {
        "streamed"
    } else {
        "unstreamed"
    };
    let via = match &report.base_url {
        Some(url) => format!(" via {url}"),
        None => String::new(),
    };
    writeln!(
        out,
        "{}",
        style.bold(&format!(
            "crux bench {}{via}: {} requests, concurrency {}, {mode}, warmup {} (excluded)",
            report.model, m.requests, report.concurrency, report.warmup
        ))
    )
    .map_err(io_failure)?;
    let mut rows = phase_rows("", m);
    if let Some(d) = &report.direct {
        rows.extend(phase_rows("direct ", d));
    }
    let headers = ["", "MIN", "P50", "P90", "P95", "P99", "MAX", "MEAN"];
    if !rows.is_empty() {
        print_table(&mut out, &headers, &rows)?;
    }
    let ok = if m.ok == m.requests {
        style.green(&format!("ok {}/{}", m.ok, m.requests))
    } else {
        style.red(&format!("ok {}/{}", m.ok, m.requests))
    };
    writeln!(
        out,
        "{ok} · errors: {} · {:.1} req/s · {:.1} tokens/s · {} in / {} out tokens · wall {:.0} ms",
        errors(m),
        m.requests_per_s,
        m.tokens_per_s,
        m.prompt_tokens,
        m.completion_tokens,
        m.wall_ms
    )
    .map_err(io_failure)?;
    if !report.served_by.is_empty() {
        let by: Vec<String> = report
            .served_by
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        writeln!(out, "served by: {}", by.join(", ")).map_err(io_failure)?;
    }
    match (
        report.gateway_overhead_p50_ms,
        report.gateway_reported_overhead_p50_ms,
    ) {
        (Some(measured), Some(reported)) => match report.gateway_hop_p50_ms {
            Some(hop) => writeln!(
                out,
                "gateway overhead: measured {measured:.3} ms (p50 via gateway − p50 direct) · reported {reported:.3} ms (p50 of x-crux-overhead-ms) + one HTTP hop {hop:.3} ms (p50 of GET /health) = {:.3} ms",
                reported + hop
            ),
            None => writeln!(
                out,
                "gateway overhead: measured {measured:.3} ms (p50 via gateway − p50 direct) · reported by the gateway {reported:.3} ms (p50 of x-crux-overhead-ms)"
            ),
        },
        (Some(measured), None) => writeln!(
            out,
            "gateway overhead (p50 via gateway − p50 direct): {measured:.3} ms"
        ),
        (None, Some(reported)) => writeln!(
            out,
            "gateway-reported overhead p50 (x-crux-overhead-ms): {reported:.3} ms"
        ),
        (None, None) => Ok(()),
    }
    .map_err(io_failure)?;
    let w = &report.warmup_stats;
    if w.requests > 0 {
        let p50 = w
            .latency_ms
            .map_or_else(|| "-".to_owned(), |p| format!("{:.1} ms", p.p50));
        writeln!(
            out,
            "{}",
            style.dim(&format!(
                "warmup: {} requests, {} ok, p50 {p50}, errors: {} (not in the stats above)",
                w.requests,
                w.ok,
                errors(w)
            ))
        )
        .map_err(io_failure)?;
    }
    Ok(())
}
