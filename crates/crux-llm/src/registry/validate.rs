//! `validate_defaults`: every configured default model and route target checked against the registry.

use std::fmt;

use serde::Serialize;

use super::Registry;
use crate::model_id::ModelId;
use crate::providers::ProviderId;

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Usable, but worth a look (known only by prefix, or missing from the provider's fetched list).
    Warning,
    /// Will fail: unknown model or malformed route.
    Error,
}

/// One finding of [`Registry::validate_defaults`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where it is configured, e.g. `providers.openai.default_model` or `routes.smart.targets[1]`.
    pub subject: String,
    /// The model name as configured.
    pub model: String,
    /// How bad it is.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{level}: {} = \"{}\": {}",
            self.subject, self.model, self.message
        )
    }
}

pub(super) fn run(
    reg: &Registry,
    defaults: &[(ProviderId, String)],
    routes: &[(String, Vec<String>)],
) -> Vec<Problem> {
    let mut out = Vec::new();
    for (p, model) in defaults {
        let subject = format!("providers.{p}.default_model");
        if model.trim().is_empty() {
            out.push(problem(
                subject,
                model,
                Severity::Error,
                "empty model name".into(),
            ));
            continue;
        }
        check_model(
            reg,
            subject,
            model,
            &ModelId::new(*p, model.clone()),
            &mut out,
        );
    }
    for (alias, targets) in routes {
        if targets.is_empty() {
            out.push(problem(
                format!("routes.{alias}.targets"),
                "",
                Severity::Error,
                "the route has no targets".into(),
            ));
        }
        for (i, target) in targets.iter().enumerate() {
            let subject = format!("routes.{alias}.targets[{i}]");
            match target.parse::<ModelId>() {
                Ok(id) => check_model(reg, subject, target, &id, &mut out),
                Err(e) => out.push(problem(subject, target, Severity::Error, e.to_string())),
            }
        }
    }
    out
}

fn check_model(
    reg: &Registry,
    subject: String,
    configured: &str,
    id: &ModelId,
    out: &mut Vec<Problem>,
) {
    if let Some(entry) = reg.get(id) {
        if entry.listed == Some(false) {
            let message = format!(
                "in the catalog, but not in the model list {} returned on its last refresh",
                id.provider
            );
            out.push(problem(subject, configured, Severity::Warning, message));
        }
        return;
    }
    match reg.candidates(id).first() {
        Some(base) => out.push(problem(
            subject,
            configured,
            Severity::Warning,
            format!("not a known model id; limits and prices are taken from '{}'", base.id),
        )),
        None => out.push(problem(
            subject,
            configured,
            Severity::Error,
            format!(
                "unknown model: neither the catalog nor the last fetched list of {p} has it (see `crux models list {p}`)",
                p = id.provider
            ),
        )),
    }
}

fn problem(subject: String, model: &str, severity: Severity, message: String) -> Problem {
    Problem {
        subject,
        model: model.to_owned(),
        severity,
        message,
    }
}
