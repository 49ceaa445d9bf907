//! True- and false-positive tests of the redaction rules.

use super::*;

fn r() -> Redactor {
    Redactor::new(RedactConfig::default()).unwrap()
}

#[track_caller]
fn redacts(input: &str, expected: &str) {
    assert_eq!(r().redact(input), expected, "input: {input}");
}

#[track_caller]
fn keeps(input: &str) {
    let out = r().redact(input);
    assert!(
        matches!(out, Cow::Borrowed(_)),
        "changed {input:?} into {out:?}"
    );
}

#[test]
fn emails() {
    redacts("mail jane.doe+x@example.co.uk now", "mail [EMAIL] now");
    redacts("a@b.io,c@d.org", "[EMAIL],[EMAIL]");
    keeps("user@localhost and @decorator and foo@bar");
}

#[test]
fn phones() {
    redacts("call +1 555 123 4567.", "call [PHONE].");
    redacts("tel: (555) 123-4567", "tel: [PHONE]");
    redacts("555.123.4567 or +44 20 7946 0958", "[PHONE] or [PHONE]");
    keeps("order 5551234567 on 2024-05-01 at 12:30:45, build 20240501");
}

#[test]
fn cards_are_luhn_checked() {
    redacts("card 4111 1111 1111 1111 ok", "card [CARD] ok");
    redacts("4242-4242-4242-4242", "[CARD]");
    redacts("5500005555555559", "[CARD]");
    // 16 digits that fail Luhn: an order or tracking number, kept.
    keeps("order 1234567812345678 shipped");
    keeps("4111 1111 1111 1112");
    keeps("id 1234567890123");
}

#[test]
fn ssns() {
    redacts("ssn 123-45-6789.", "ssn [SSN].");
    keeps("000-12-3456 and 666-12-3456 and 900-12-3456 and 123-00-4567 and 123-45-0000");
}

#[test]
fn ip_addresses() {
    redacts("from 192.168.1.20 to 10.0.0.1", "from [IP] to [IP]");
    redacts(
        "v6 2001:db8::1 and ::1 and fe80::1ff:fe23:4567:890a!",
        "v6 [IP] and [IP] and [IP]!",
    );
    redacts("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "full [IP]");
    keeps("999.1.1.1 and 1.2.3.4.5 and v1.2.3.4");
    keeps("std::net::Ipv6Addr at 12:30:45 and a::b and Vec::new()");
}

#[test]
fn api_keys_and_tokens() {
    redacts("key sk-proj-abcDEF1234567890xyz here", "key [SECRET] here");
    redacts("AIzaSyA1234567890abcdefghijklmnopqrstuv", "[SECRET]");
    redacts("gsk_abcdefghij0123456789KLMNOP", "[SECRET]");
    redacts("xai-abcdefghij0123456789KLMNOP", "[SECRET]");
    redacts("Bearer Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "Bearer [SECRET]");
    redacts("crux-vk-AbCdEfGhIjKlMnOpQrStUvWx", "[SECRET]");
    // Hex digests, UUIDs and long words are not secrets.
    keeps("sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    keeps("id 550e8400-e29b-41d4-a716-446655440000 / 550E8400-E29B-41D4-A716-446655440000");
    keeps("antidisestablishmentarianism_and_internationalization");
    keeps("task-management and risk-assessment");
}

#[test]
fn config_switches_rules_off() {
    let only_email = Redactor::new(RedactConfig {
        emails: true,
        phones: false,
        cards: false,
        ssns: false,
        ips: false,
        secrets: false,
    })
    .unwrap();
    assert_eq!(
        only_email.redact("a@b.io 10.0.0.1 123-45-6789"),
        "[EMAIL] 10.0.0.1 123-45-6789"
    );
}

#[test]
fn json_strings_are_redacted_in_place() {
    let mut v = serde_json::json!({"user": "a@b.io", "n": 5, "list": ["10.0.0.1", true]});
    r().redact_json(&mut v);
    assert_eq!(
        v,
        serde_json::json!({"user": "[EMAIL]", "n": 5, "list": ["[IP]", true]})
    );
}

#[test]
fn luhn_examples() {
    let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<_>>();
    assert!(luhn(&d("4111111111111111")));
    assert!(luhn(&d("79927398713")));
    assert!(!luhn(&d("79927398710")));
}
