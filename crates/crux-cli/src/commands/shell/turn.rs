//! One turn of the shell: the request goes through the session's `Router` (streamed or not), text is printed as it
//! arrives (the conversation first pruned to fit the model, see [`super::fit`]), and Ctrl-C cancels the generation by dropping the upstream request while the shell carries on.

use std::io::Write;
use std::time::{Duration, Instant};

use crux_llm::router::Peeked;
use crux_llm::{Accumulator, CallOptions, StreamEvent};
use futures_util::StreamExt;

use super::session::{Session, TurnRecord};
use crate::exit::Failure;

/// How a turn ended.
#[derive(Debug)]
pub enum TurnEnd {
    /// Answered and kept in the conversation.
    Done(TurnRecord, Duration),
    /// Cancelled with Ctrl-C (nothing kept).
    Cancelled,
    /// Failed with this one-line message (nothing kept).
    Failed(String),
}

/// Resolves on Ctrl-C (SIGINT); never, if the handler cannot be installed.
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Run one turn with `text`, printing the answer on `out`.
pub async fn run(session: &mut Session, text: &str, out: &mut impl Write) -> TurnEnd {
    let started = Instant::now();
    if let Some(f) = session.fit(text) {
        super::ui::note_line(&format!(
            "[pruned {} older message(s) to fit {} tokens of context]",
            f.dropped, f.budget
        ));
    }
    let req = session.request(text);
    let cancel = interrupted();
    tokio::pin!(cancel);
    if !session.options.stream {
        let call = session
            .router
            .chat(&session.route, req, CallOptions::default());
        let result = tokio::select! {
            r = call => r,
            () = &mut cancel => return TurnEnd::Cancelled,
        };
        return match result {
            Ok(routed) => {
                let answer = routed.value.text();
                let _ = writeln!(out, "{}", answer.trim_end_matches('\n'));
                let _ = out.flush();
                let usage = routed.value.usage;
                let rec = session.record(text, routed.value.message, routed.target, usage);
                TurnEnd::Done(rec, started.elapsed())
            }
            Err(f) => TurnEnd::Failed(Failure::from(&f).message),
        };
    }
    let open = session
        .router
        .stream(&session.route, req, CallOptions::default());
    let opened = tokio::select! {
        r = open => r,
        () = &mut cancel => return TurnEnd::Cancelled,
    };
    let routed = match opened {
        Ok(r) => r,
        Err(f) => return TurnEnd::Failed(Failure::from(&f).message),
    };
    let target = routed.target;
    let Peeked {
        buffered, stream, ..
    } = routed.value;
    let mut items = futures_util::stream::iter(buffered).chain(stream);
    let mut acc = Accumulator::new();
    let mut ends_with_newline = true;
    loop {
        let item = tokio::select! {
            item = items.next() => item,
            () = &mut cancel => {
                // Dropping the stream drops the upstream request.
                drop(items);
                if !ends_with_newline {
                    let _ = writeln!(out);
                }
                let _ = out.flush();
                return TurnEnd::Cancelled;
            }
        };
        match item {
            None => break,
            Some(Err(e)) => {
                if !ends_with_newline {
                    let _ = writeln!(out);
                }
                let _ = out.flush();
                return TurnEnd::Failed(Failure::from(&e).message);
            }
            Some(Ok(ev)) => {
                acc.push(&ev);
                if let StreamEvent::TextDelta { text } = &ev {
                    ends_with_newline = text.ends_with('\n');
                    let _ = write!(out, "{text}");
                    let _ = out.flush();
                }
            }
        }
    }
    if !ends_with_newline {
        let _ = writeln!(out);
    }
    let _ = out.flush();
    let resp = acc.response(target.provider.as_str(), started.elapsed());
    let rec = session.record(text, resp.message, target, resp.usage);
    TurnEnd::Done(rec, started.elapsed())
}
