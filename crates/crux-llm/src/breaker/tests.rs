//! Breaker tests on a fake clock: both opening rules, the sliding window, probes, and what random errors do.

use super::*;

fn breakers(config: BreakerConfig) -> (Breakers, Clock) {
    let clock = Clock::fake();
    (Breakers::new(config, clock.clone()), clock)
}

/// Three consecutive failures open it; the ratio rule is out of reach.
fn consecutive_only() -> BreakerConfig {
    BreakerConfig {
        failures: 3,
        open_ms: 1000,
        min_calls: 1000,
        ..BreakerConfig::default()
    }
}

/// The ratio rule alone: at least half of 20 calls within 1 s.
fn ratio_only() -> BreakerConfig {
    BreakerConfig {
        failures: 1000,
        open_ms: 1000,
        window_ms: 1000,
        min_calls: 20,
        failure_ratio: 0.5,
    }
}

#[test]
fn opens_after_consecutive_failures_and_probes_once() {
    let (b, clock) = breakers(consecutive_only());
    for _ in 0..2 {
        assert_eq!(b.admit("p/m"), Admission::Allowed);
        b.record("p/m", false);
    }
    assert_eq!(b.state("p/m"), BreakerState::Closed);
    b.record("p/m", false);
    assert_eq!(b.state("p/m"), BreakerState::Open);
    assert_eq!(b.admit("p/m"), Admission::Rejected);
    assert_eq!(b.admit("other/m"), Admission::Allowed);
    clock.advance(Duration::from_millis(999));
    assert_eq!(b.admit("p/m"), Admission::Rejected);
    clock.advance(Duration::from_millis(1));
    assert_eq!(b.state("p/m"), BreakerState::HalfOpen);
    assert_eq!(b.admit("p/m"), Admission::Probe);
    assert_eq!(
        b.admit("p/m"),
        Admission::Rejected,
        "only one probe at a time"
    );
    b.record("p/m", true);
    assert_eq!(b.state("p/m"), BreakerState::Closed);
    assert_eq!(b.admit("p/m"), Admission::Allowed);
    b.record("p/m", false);
    b.record("p/m", false);
    assert_eq!(
        b.state("p/m"),
        BreakerState::Closed,
        "closing started a fresh count"
    );
}

#[test]
fn failed_probe_reopens_and_success_resets_count() {
    let (b, clock) = breakers(consecutive_only());
    for _ in 0..3 {
        b.record("k", false);
    }
    clock.advance(Duration::from_secs(1));
    assert_eq!(b.admit("k"), Admission::Probe);
    b.record("k", false);
    assert_eq!(b.state("k"), BreakerState::Open);
    assert_eq!(b.snapshot(), vec![("k".to_owned(), BreakerState::Open)]);
    let (b, _) = breakers(consecutive_only());
    b.record("k", false);
    b.record("k", false);
    b.record("k", true);
    b.record("k", false);
    assert_eq!(
        b.state("k"),
        BreakerState::Closed,
        "success resets the consecutive count"
    );
}

#[test]
fn a_mostly_failing_target_opens_on_the_ratio() {
    let (b, _) = breakers(ratio_only());
    // Two failures in three calls: never three in a row, but two thirds of the window.
    for i in 1..=19 {
        b.record("k", i % 3 == 0);
        assert_eq!(
            b.state("k"),
            BreakerState::Closed,
            "call {i}: too few calls"
        );
    }
    b.record("k", false);
    assert_eq!(
        b.state("k"),
        BreakerState::Open,
        "20 calls, 13 failed: over half"
    );
}

#[test]
fn old_failures_slide_out_of_the_window() {
    let (b, clock) = breakers(ratio_only());
    for _ in 0..19 {
        b.record("k", false);
    }
    clock.advance(Duration::from_millis(1000));
    b.record("k", true);
    b.record("k", false);
    assert_eq!(
        b.state("k"),
        BreakerState::Closed,
        "the 19 failures a window ago no longer count"
    );
    for _ in 0..9 {
        b.record("k", true);
        b.record("k", false);
    }
    assert_eq!(
        b.state("k"),
        BreakerState::Open,
        "10 of 20 calls in this window failed"
    );
}

#[test]
fn random_ten_percent_failures_never_open_the_default_breaker() {
    let (b, clock) = breakers(BreakerConfig::default());
    // A fixed linear congruential sequence: ~10 % failures, independent of each other, 200 calls a second.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut failed = 0u32;
    for _ in 0..200_000 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let fail = (x >> 33).is_multiple_of(10);
        failed += u32::from(fail);
        assert_eq!(b.admit("p/m"), Admission::Allowed);
        b.record("p/m", !fail);
        clock.advance(Duration::from_millis(5));
    }
    assert!((19_000..21_000).contains(&failed), "{failed}");
    assert_eq!(b.state("p/m"), BreakerState::Closed);
}

#[test]
fn a_dead_upstream_opens_the_default_breaker_at_any_traffic() {
    let (b, clock) = breakers(BreakerConfig::default());
    for _ in 0..9 {
        b.record("p/m", false);
        clock.advance(Duration::from_secs(60));
    }
    assert_eq!(b.state("p/m"), BreakerState::Closed);
    b.record("p/m", false);
    assert_eq!(
        b.state("p/m"),
        BreakerState::Open,
        "ten failures in a row, one a minute"
    );
}

#[test]
fn an_unanswered_probe_lets_another_through_after_open_ms() {
    let (b, clock) = breakers(consecutive_only());
    for _ in 0..3 {
        b.record("k", false);
    }
    b.record("k", true);
    assert_eq!(
        b.state("k"),
        BreakerState::Open,
        "a late success of a call from before the opening changes nothing"
    );
    clock.advance(Duration::from_millis(1000));
    assert_eq!(b.admit("k"), Admission::Probe);
    clock.advance(Duration::from_millis(999));
    assert_eq!(b.admit("k"), Admission::Rejected);
    clock.advance(Duration::from_millis(1));
    assert_eq!(
        b.admit("k"),
        Admission::Probe,
        "the first probe never reported"
    );
    b.record("k", true);
    assert_eq!(b.state("k"), BreakerState::Closed);
}

#[test]
fn idle_closed_breakers_are_swept() {
    let (b, clock) = breakers(consecutive_only());
    b.record("a/x", true);
    for _ in 0..3 {
        b.record("dead/x", false);
    }
    clock.advance(Duration::from_millis(30_001));
    b.record("b/y", true);
    let keys: Vec<String> = b.snapshot().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["b/y", "dead/x"], "closed and idle: gone; open: kept");
}

#[test]
fn config_keys_default_and_validate() {
    let old: BreakerConfig = serde_json::from_str(r#"{"failures": 5, "open_ms": 1000}"#).unwrap();
    assert_eq!(
        (old.failures, old.open_ms, old.min_calls),
        (5, 1000, BreakerConfig::default().min_calls)
    );
    assert!(serde_json::from_str::<BreakerConfig>(r#"{"failure": 5}"#).is_err());
    assert_eq!(BreakerConfig::default().invalid(), None);
    for bad in [
        BreakerConfig {
            failure_ratio: 0.0,
            ..BreakerConfig::default()
        },
        BreakerConfig {
            failure_ratio: 1.5,
            ..BreakerConfig::default()
        },
        BreakerConfig {
            min_calls: 0,
            ..BreakerConfig::default()
        },
        BreakerConfig {
            failures: 0,
            ..BreakerConfig::default()
        },
    ] {
        assert!(bad.invalid().is_some(), "{bad:?}");
    }
    let never = BreakerConfig::never();
    let (b, _) = breakers(never);
    for _ in 0..100 {
        b.record("k", false);
    }
    assert_eq!(b.state("k"), BreakerState::Closed);
}
