//! The balancer on a fake clock: exact weighted shares, cooldown after 429 (honouring `retry-after`) and after a
//! failure, least-busy and latency choices, per-deployment quotas per clock minute.

use std::collections::BTreeMap;

use super::*;
use crate::error::UpstreamError;
use crate::providers::ProviderId;

fn ids() -> Vec<ModelId> {
    vec![
        ModelId::new(ProviderId::OpenAi, "gpt-4o-mini"),
        ModelId::new(ProviderId::Groq, "llama-3.3-70b-versatile"),
    ]
}

fn balancer(strategy: Strategy, weights: Vec<u32>, clock: Clock) -> (Balancer, Vec<ModelId>) {
    let targets = ids();
    let routes = BTreeMap::from([("pool".to_owned(), targets.clone())]);
    let balanced = BTreeMap::from([(
        "pool".to_owned(),
        Balance {
            strategy,
            weights,
            cooldown: Duration::from_secs(5),
            quotas: Vec::new(),
        },
    )]);
    (Balancer::new(&routes, &balanced, clock), targets)
}

#[test]
fn a_deployment_out_of_its_quota_is_tried_last_until_the_next_minute() {
    let clock = Clock::fake();
    let targets = ids();
    let routes = BTreeMap::from([("pool".to_owned(), targets.clone())]);
    let quota = Quota {
        rpm: Some(2),
        tpm: Some(100),
    };
    let balanced = BTreeMap::from([(
        "pool".to_owned(),
        Balance {
            strategy: Strategy::Ordered,
            weights: vec![1, 1],
            cooldown: Duration::from_secs(5),
            quotas: vec![quota],
        },
    )]);
    let b = Balancer::new(&routes, &balanced, clock.clone());
    let first = |b: &Balancer| b.order("pool", &targets).unwrap()[0].clone();
    for _ in 0..2 {
        assert_eq!(first(&b), targets[0]);
        drop(b.begin(&targets[0]));
    }
    assert_eq!(first(&b), targets[1], "two requests used the rpm quota");
    let view = &b.views(&routes)[0].2[0];
    assert_eq!((view.rpm, view.requests_this_minute), (Some(2), 2));
    clock.advance(Duration::from_secs(60));
    assert_eq!(first(&b), targets[0], "a new minute, a new quota");
    let busy = b.begin(&targets[0]).unwrap();
    busy.used(150);
    drop(busy);
    assert_eq!(first(&b), targets[1], "150 tokens used the tpm quota");
    assert_eq!(b.views(&routes)[0].2[0].tokens_this_minute, 150);
}

fn limited(retry_after: Option<Duration>) -> Error {
    Error::Upstream(Box::new(UpstreamError {
        provider: ProviderId::OpenAi,
        status: 429,
        code: ErrorCode::RateLimit,
        message: "slow down".into(),
        body: None,
        retry_after,
        retryable: true,
    }))
}

fn firsts(b: &Balancer, targets: &[ModelId], n: usize) -> (usize, usize) {
    let mut a = 0;
    for _ in 0..n {
        if b.order("pool", targets).unwrap()[0] == targets[0] {
            a += 1;
        }
    }
    (a, n - a)
}

#[test]
fn smooth_weighted_round_robin_interleaves_exact_shares() {
    assert_eq!(schedule(&[3, 1]), vec![0, 0, 1, 0]);
    assert_eq!(schedule(&[1, 1, 1]), vec![0, 1, 2]);
    let (b, t) = balancer(Strategy::Weighted, vec![3, 1], Clock::fake());
    assert_eq!(firsts(&b, &t, 400), (300, 100));
    let order = b.order("pool", &t).unwrap();
    assert_eq!(order.len(), 2, "the other deployment stays as the fallback");
    assert!(
        b.order("other", &t).is_none(),
        "an alias without a strategy keeps its order"
    );
}

#[test]
fn a_429_cools_a_deployment_for_its_retry_after_then_it_returns() {
    let clock = Clock::fake();
    let (b, t) = balancer(Strategy::Weighted, vec![3, 1], clock.clone());
    b.finish(
        &t[0],
        Err(&limited(Some(Duration::from_secs(2)))),
        b.cooldown("pool"),
    );
    assert_eq!(
        firsts(&b, &t, 40),
        (0, 40),
        "all traffic moves to the other key"
    );
    assert_eq!(
        b.order("pool", &t).unwrap()[1],
        t[0],
        "still the last resort"
    );
    clock.advance(Duration::from_millis(2001));
    assert_eq!(firsts(&b, &t, 40), (30, 10));
}

#[test]
fn a_failure_without_retry_after_cools_for_the_route_cooldown_and_a_bad_request_not_at_all() {
    let clock = Clock::fake();
    let (b, t) = balancer(Strategy::Ordered, vec![], clock.clone());
    b.finish(
        &t[0],
        Err(&Error::Config("bad".into())),
        Duration::from_secs(5),
    );
    assert_eq!(b.order("pool", &t).unwrap()[0], t[0]);
    b.finish(&t[0], Err(&limited(None)), Duration::from_secs(5));
    assert_eq!(b.order("pool", &t).unwrap()[0], t[1]);
    clock.advance(Duration::from_millis(4999));
    assert_eq!(
        b.order("pool", &t).unwrap()[0],
        t[1],
        "not yet: the cooldown ends after 5 s"
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(b.order("pool", &t).unwrap()[0], t[0]);
}

#[test]
fn least_busy_goes_where_fewer_requests_are_in_flight() {
    let (b, t) = balancer(Strategy::LeastBusy, vec![], Clock::fake());
    let busy = b.begin(&t[0]).unwrap();
    assert_eq!(firsts(&b, &t, 10), (0, 10));
    let views = b.views(&BTreeMap::from([("pool".to_owned(), t.clone())]));
    assert_eq!(views[0].2[0].in_flight, 1);
    drop(busy);
    assert_eq!(firsts(&b, &t, 10), (5, 5), "ties take turns");
}

#[test]
fn latency_prefers_the_faster_deployment_and_still_explores() {
    let (b, t) = balancer(Strategy::Latency, vec![], Clock::fake());
    b.finish(&t[0], Ok(Duration::from_millis(10)), DEFAULT_COOLDOWN);
    b.finish(&t[1], Ok(Duration::from_millis(2)), DEFAULT_COOLDOWN);
    let (slow, fast) = firsts(&b, &t, 100);
    assert!(fast >= 90 && slow >= 1, "{slow} {fast}");
    let views = b.views(&BTreeMap::from([("pool".to_owned(), t.clone())]));
    assert_eq!(views[0].2[1].latency_ms, Some(2.0));
}
