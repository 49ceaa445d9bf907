//! Wire-neutral streaming: turns a wire's frames plus the request's faults into a paced script,
//! and plays it as a real chunked HTTP body whose drop guard records a [`StreamRecord`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::stream;

use crate::faults::Faults;
use crate::record::StreamRecord;
use crate::state::Shared;

/// The frames of one streamed reply, as rendered by a wire.
#[derive(Debug, Default)]
pub(crate) struct Frames {
    /// Frames not counted as content (e.g. the OpenAI role chunk).
    pub head: Vec<Bytes>,
    /// Content frames, counted by `stall_after` / `cut_after` / `truncate_after`
    /// (text deltas, tool call fragments, finish and usage chunks).
    pub body: Vec<Bytes>,
    /// The end-of-stream marker, if the wire has one (e.g. `data: [DONE]`).
    pub terminator: Option<Bytes>,
    /// A frame that is not valid JSON (for `invalid_json`).
    pub broken: Bytes,
    /// An in-band error frame (for `mid_error`).
    pub error: Bytes,
}

/// One step of a stream script.
#[derive(Debug)]
enum Step {
    /// Write a frame; `terminal` marks the terminator.
    Frame { bytes: Bytes, terminal: bool },
    /// Pause.
    Sleep(Duration),
    /// Abort the connection (scripted cut).
    Abort,
}

/// Pause before a scripted cut so the frames before it are flushed to the client first.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(10);

fn cut_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "mock fault: connection cut",
    )
}

/// How a scripted early stop behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Cut,
    Truncate,
    Stall,
}

fn earliest_stop(faults: &Faults) -> Option<(usize, Stop)> {
    [
        (faults.cut_after, Stop::Cut),
        (faults.truncate_after, Stop::Truncate),
        (faults.stall_after, Stop::Stall),
    ]
    .into_iter()
    .filter_map(|(n, stop)| n.map(|n| (n, stop)))
    .min_by_key(|(n, _)| *n)
}

fn build_script(frames: Frames, faults: &Faults) -> VecDeque<Step> {
    let delay = Duration::from_millis(faults.delay_ms);
    let mut steps = VecDeque::new();
    let push = |steps: &mut VecDeque<Step>, bytes: Bytes, terminal: bool| {
        if !delay.is_zero() && !steps.is_empty() {
            steps.push_back(Step::Sleep(delay));
        }
        steps.push_back(Step::Frame { bytes, terminal });
    };
    for frame in frames.head {
        push(&mut steps, frame, false);
    }
    let stop = earliest_stop(faults);
    let apply_stop = |steps: &mut VecDeque<Step>, stop: Stop| match stop {
        Stop::Cut => {
            steps.push_back(Step::Sleep(FLUSH_BEFORE_CUT));
            steps.push_back(Step::Abort);
        }
        Stop::Truncate => {}
        Stop::Stall => steps.push_back(Step::Sleep(Duration::from_millis(faults.stall_ms))),
    };
    for (i, frame) in frames.body.into_iter().enumerate() {
        if let Some((n, kind)) = stop
            && n == i
        {
            apply_stop(&mut steps, kind);
            return steps;
        }
        push(&mut steps, frame, false);
        if i == 0 && faults.invalid_json {
            push(&mut steps, frames.broken.clone(), false);
        }
        if i == 0 && faults.mid_error {
            push(&mut steps, frames.error, false);
            return steps;
        }
    }
    if let Some((_, kind)) = stop {
        apply_stop(&mut steps, kind);
        return steps;
    }
    if let Some(t) = frames.terminator {
        push(&mut steps, t, true);
    }
    steps
}

/// Records the stream when dropped (normal end, scripted end, or client disconnect).
struct StreamGuard {
    shared: Arc<Shared>,
    path: String,
    chunks_sent: usize,
    completed: bool,
    /// The script ran to its end (or hit a scripted abort): not a client disconnect.
    done: bool,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.shared.recorder.push_stream(StreamRecord {
            path: std::mem::take(&mut self.path),
            chunks_sent: self.chunks_sent,
            completed: self.completed,
            client_disconnected: !self.done,
        });
    }
}

struct Player {
    steps: VecDeque<Step>,
    guard: StreamGuard,
}

type Item = Result<Bytes, std::io::Error>;

async fn next_item(mut player: Player) -> Option<(Item, Player)> {
    loop {
        match player.steps.pop_front() {
            None => {
                player.guard.done = true;
                return None;
            }
            Some(Step::Sleep(d)) => {
                let shared = Arc::clone(&player.guard.shared);
                if !shared.sleep(d).await {
                    player.guard.done = true;
                    player.steps.clear();
                    return Some((Err(std::io::Error::other("mock server shut down")), player));
                }
            }
            Some(Step::Abort) => {
                player.guard.done = true;
                player.steps.clear();
                return Some((Err(cut_error()), player));
            }
            Some(Step::Frame { bytes, terminal }) => {
                player.guard.chunks_sent += 1;
                player.guard.completed |= terminal;
                if player.steps.is_empty() {
                    player.guard.done = true;
                }
                return Some((Ok(bytes), player));
            }
        }
    }
}

/// Builds a streaming body that plays `frames` under `faults`, recording a [`StreamRecord`]
/// for `path` when the body finishes or is dropped.
pub(crate) fn stream_body(
    shared: Arc<Shared>,
    path: &str,
    frames: Frames,
    faults: &Faults,
) -> Body {
    let player = Player {
        steps: build_script(frames, faults),
        guard: StreamGuard {
            shared,
            path: path.to_owned(),
            chunks_sent: 0,
            completed: false,
            done: false,
        },
    };
    Body::from_stream(stream::unfold(player, next_item))
}

/// Builds a non-streamed body under `faults`: `invalid_json` sends `broken`, `mid_error` sends
/// `error`, `cut_after` sends half the body then aborts, `truncate_after` sends half the body.
/// (`stall_after` is handled by the caller sleeping before answering.)
pub(crate) fn plain_body(full: Bytes, broken: Bytes, error: Bytes, faults: &Faults) -> Body {
    let half = full.slice(..full.len() / 2);
    if faults.invalid_json {
        Body::from(broken)
    } else if faults.mid_error {
        Body::from(error)
    } else if faults.cut_after.is_some() {
        let parts = stream::unfold(Some(Some(half)), |state| async move {
            match state? {
                Some(half) => Some((Ok(half), Some(None))),
                None => {
                    tokio::time::sleep(FLUSH_BEFORE_CUT).await;
                    Some((Err(cut_error()), None))
                }
            }
        });
        Body::from_stream(parts)
    } else if faults.truncate_after.is_some() {
        Body::from(half)
    } else {
        Body::from(full)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn frames() -> Frames {
        Frames {
            head: vec![Bytes::from_static(b"h")],
            body: vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")],
            terminator: Some(Bytes::from_static(b"T")),
            broken: Bytes::from_static(b"X"),
            error: Bytes::from_static(b"E"),
        }
    }

    fn render(steps: &VecDeque<Step>) -> String {
        steps
            .iter()
            .map(|s| match s {
                Step::Frame { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
                Step::Sleep(d) => format!("<{}>", d.as_millis()),
                Step::Abort => "!".to_owned(),
            })
            .collect()
    }

    fn script(spec: &str) -> String {
        render(&build_script(frames(), &Faults::parse(spec).unwrap()))
    }

    #[test]
    fn scripts() {
        assert_eq!(script(""), "habT");
        assert_eq!(script("delay=5"), "h<5>a<5>b<5>T");
        assert_eq!(script("cut_after=1"), "ha<10>!");
        assert_eq!(script("truncate_after=0"), "h");
        assert_eq!(script("stall_after=1,stall_ms=7"), "ha<7>");
        assert_eq!(script("truncate_after=9"), "hab");
        assert_eq!(script("invalid_json"), "haXbT");
        assert_eq!(script("mid_error"), "haE");
    }
}
