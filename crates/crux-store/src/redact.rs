//! PII and secret redaction for stored text: e-mails, phone numbers, card numbers (Luhn-checked), US SSNs,
//! IPv4/IPv6 addresses and API-key-like tokens are replaced with `[EMAIL]`, `[PHONE]`, `[CARD]`, `[SSN]`, `[IP]`
//! and `[SECRET]`.
//!
//! Each rule finds candidates with a regular expression and then validates them (Luhn, octet ranges, a real IPv6
//! parse, character classes of a token), so look-alikes such as order numbers that fail Luhn, version strings,
//! clock times, hex digests and UUIDs are kept.

use std::borrow::Cow;
use std::net::Ipv6Addr;

use regex::{Captures, Regex};
use serde_json::Value as Json;

use crate::error::{Result, StoreError};

/// Which kinds of data to redact. `Default` turns every rule on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedactConfig {
    /// E-mail addresses.
    pub emails: bool,
    /// Phone numbers (international `+…` or separated North American `555-123-4567`).
    pub phones: bool,
    /// Payment card numbers that pass the Luhn check.
    pub cards: bool,
    /// US social security numbers (`123-45-6789`).
    pub ssns: bool,
    /// IPv4 and IPv6 addresses.
    pub ips: bool,
    /// API keys and long random-looking tokens.
    pub secrets: bool,
}

impl Default for RedactConfig {
    fn default() -> Self {
        Self {
            emails: true,
            phones: true,
            cards: true,
            ssns: true,
            ips: true,
            secrets: true,
        }
    }
}

/// A compiled set of redaction rules; build once and share (it is `Send + Sync`).
#[derive(Debug, Clone)]
pub struct Redactor {
    config: RedactConfig,
    known_secret: Regex,
    long_token: Regex,
    email: Regex,
    card: Regex,
    ssn: Regex,
    phone: Regex,
    ipv6: Regex,
    ipv4: Regex,
}

const KNOWN_SECRET: &str = r"\b(?:sk-[A-Za-z0-9_\-]{16,}|sk_(?:live|test)_[A-Za-z0-9]{16,}|rk_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_\-]{30,}|gsk_[A-Za-z0-9]{20,}|xai-[A-Za-z0-9]{20,}|crux-vk-[A-Za-z0-9_\-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|hf_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16})";
const LONG_TOKEN: &str = r"[A-Za-z0-9_\-]{32,}";
const EMAIL: &str = r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b";
const CARD: &str = r"\b\d(?:[ \-]?\d){12,18}\b";
const SSN: &str = r"\b(\d{3})-(\d{2})-(\d{4})\b";
const PHONE: &str = r"\+\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d{1,4}(?:[ .\-]?\d{2,4}){1,4}\b|(?:\(\d{3}\) ?|\b\d{3}[ .\-])\d{3}[ .\-]\d{4}\b";
const IPV6: &str = r"(?i)(?:[0-9a-f]{1,4}:|:)(?::|[0-9a-f]{1,4}:){1,6}(?::|[0-9a-f]{1,4})?";
const IPV4: &str = r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b";

fn compile(pattern: &str) -> Result<Regex> {
    Regex::new(pattern).map_err(|e| StoreError::Invalid(format!("redaction pattern: {e}")))
}

/// Applies `re` to `text`, replacing each match for which `decide(haystack, start, end, caps)` returns a marker.
fn step<'a>(
    text: Cow<'a, str>,
    re: &Regex,
    decide: impl Fn(&str, usize, usize, &Captures<'_>) -> Option<&'static str>,
) -> Cow<'a, str> {
    let run = |s: &str| -> Option<String> {
        if !re.is_match(s) {
            return None;
        }
        let out = re.replace_all(s, |c: &Captures<'_>| {
            let Some(m) = c.get(0) else {
                return String::new();
            };
            decide(s, m.start(), m.end(), c).map_or_else(|| m.as_str().to_owned(), str::to_owned)
        });
        Some(out.into_owned())
    };
    match run(&text) {
        Some(changed) if changed != *text => Cow::Owned(changed),
        _ => text,
    }
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn char_before(s: &str, i: usize) -> Option<char> {
    s[..i].chars().next_back()
}

fn char_after(s: &str, i: usize) -> Option<char> {
    s[i..].chars().next()
}

/// A long token is secret-like when it mixes upper case, lower case and at least two digits (random keys do;
/// words, hex digests and UUIDs do not).
fn looks_random(token: &str) -> bool {
    let upper = token.bytes().any(|b| b.is_ascii_uppercase());
    let lower = token.bytes().any(|b| b.is_ascii_lowercase());
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    upper && lower && digits >= 2
}

impl Redactor {
    /// Compiles the rules of `config`.
    pub fn new(config: RedactConfig) -> Result<Redactor> {
        Ok(Redactor {
            config,
            known_secret: compile(KNOWN_SECRET)?,
            long_token: compile(LONG_TOKEN)?,
            email: compile(EMAIL)?,
            card: compile(CARD)?,
            ssn: compile(SSN)?,
            phone: compile(PHONE)?,
            ipv6: compile(IPV6)?,
            ipv4: compile(IPV4)?,
        })
    }

    /// The rules in effect.
    pub fn config(&self) -> RedactConfig {
        self.config
    }

    /// `text` with every enabled kind of sensitive data replaced by its marker; borrowed when nothing matched.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let c = self.config;
        let mut out = Cow::Borrowed(text);
        if c.secrets {
            out = step(out, &self.known_secret, |_, _, _, _| Some("[SECRET]"));
            out = step(out, &self.long_token, |s, a, b, _| {
                looks_random(&s[a..b]).then_some("[SECRET]")
            });
        }
        if c.emails {
            out = step(out, &self.email, |_, _, _, _| Some("[EMAIL]"));
        }
        if c.cards {
            out = step(out, &self.card, |s, a, b, _| {
                let digits: Vec<u8> = s[a..b]
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .map(|d| d - b'0')
                    .collect();
                ((13..=19).contains(&digits.len()) && luhn(&digits)).then_some("[CARD]")
            });
        }
        if c.ssns {
            out = step(out, &self.ssn, |_, _, _, caps| {
                let part = |i: usize| caps.get(i).map_or("", |m| m.as_str());
                let (area, group, serial) = (part(1), part(2), part(3));
                let valid = area != "000"
                    && area != "666"
                    && !area.starts_with('9')
                    && group != "00"
                    && serial != "0000";
                valid.then_some("[SSN]")
            });
        }
        if c.phones {
            out = step(out, &self.phone, |s, a, b, _| {
                let n = s[a..b].bytes().filter(u8::is_ascii_digit).count();
                let glued = char_before(s, a).is_some_and(|ch| ch.is_ascii_alphanumeric())
                    || char_after(s, b).is_some_and(|ch| ch.is_ascii_alphanumeric());
                ((7..=15).contains(&n) && !glued).then_some("[PHONE]")
            });
        }
        if c.ips {
            out = step(out, &self.ipv6, |s, a, b, _| {
                let cand = &s[a..b];
                let glued = char_before(s, a)
                    .is_some_and(|ch| ch.is_alphanumeric() || "_:.".contains(ch))
                    || char_after(s, b)
                        .is_some_and(|ch| ch.is_alphanumeric() || ch == '_' || ch == ':');
                let valid = cand.parse::<Ipv6Addr>().is_ok()
                    && cand.bytes().any(|x| x.is_ascii_digit())
                    && cand.matches(':').count() >= 2;
                (valid && !glued).then_some("[IP]")
            });
            out = step(out, &self.ipv4, |s, a, b, caps| {
                let octets_ok = (1..=4).all(|i| {
                    caps.get(i)
                        .and_then(|m| m.as_str().parse::<u16>().ok())
                        .is_some_and(|v| v <= 255)
                });
                let dotted_more = char_before(s, a) == Some('.')
                    || (char_after(s, b) == Some('.')
                        && s[b..].chars().nth(1).is_some_and(|ch| ch.is_ascii_digit()));
                (octets_ok && !dotted_more).then_some("[IP]")
            });
        }
        out
    }

    /// Redacts every string inside a JSON value, in place.
    pub fn redact_json(&self, value: &mut Json) {
        match value {
            Json::String(s) => {
                if let Cow::Owned(r) = self.redact(s) {
                    *s = r;
                }
            }
            Json::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Json::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
