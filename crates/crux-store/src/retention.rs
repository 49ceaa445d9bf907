//! Retention: delete chat logs and metric points past their maximum age, once or periodically in the background.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::Result;
use crate::store::Store;

/// How long to keep each kind of row; `None` keeps it forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionPolicy {
    /// Maximum age of chat logs.
    pub chat_logs: Option<Duration>,
    /// Maximum age of metric points.
    pub metric_points: Option<Duration>,
}

impl RetentionPolicy {
    /// Applies the policy once; returns `(chat logs deleted, metric points deleted)`.
    pub async fn apply(&self, store: &Store) -> Result<(u64, u64)> {
        let logs = match self.chat_logs {
            Some(age) => store.prune_logs(age).await?,
            None => 0,
        };
        let points = match self.metric_points {
            Some(age) => store.prune_metrics(age).await?,
            None => 0,
        };
        Ok((logs, points))
    }
}

/// A running retention task.
#[derive(Debug)]
pub struct RetentionHandle {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RetentionHandle {
    /// Stops the task (an in-progress prune finishes first).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Applies `policy` now and then every `every` until stopped (or until the handle is dropped). Failures are logged
/// with `tracing` and retried at the next tick.
pub fn spawn_retention(store: Store, policy: RetentionPolicy, every: Duration) -> RetentionHandle {
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let every = every.max(Duration::from_secs(1));
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop_rx => return,
                _ = tick.tick() => {}
            }
            match policy.apply(&store).await {
                Ok((logs, points)) if logs + points > 0 => {
                    tracing::info!(
                        chat_logs = logs,
                        metric_points = points,
                        "retention pruned old rows"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention prune failed"),
            }
        }
    });
    RetentionHandle {
        stop: Some(stop_tx),
        task,
    }
}
