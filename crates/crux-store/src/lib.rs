//! `crux-store`: where Crux keeps state — SQLite by default, PostgreSQL for many instances.
//!
//! - [`Store`] is a closed enum over the two backends; [`Store::connect`] takes `sqlite://PATH` or `postgres://…`
//!   and [`Store::migrate`] applies the versioned migrations embedded from `migrations/{sqlite,postgres}/`.
//! - Repositories are methods on [`Store`]: provider keys (encrypted with the [`VaultKey`]), virtual keys, chat logs,
//!   metric points, prefs, the model registry and observed capabilities.
//! - [`WriteQueue`] takes chat logs and metric points off the request path: a bounded channel, one writer task,
//!   batched transactions, in order; through a database outage it keeps and retries what it accepted (up to a memory
//!   bound); a full queue drops and counts, never blocks.
//! - [`Redactor`] removes PII and secrets from text before it is stored.
//! - [`copy_store`] copies every table between stores and verifies counts and checksums; [`import_legacy`] reads
//!   the original Python system's SQLite file.
//!
//! The library never reads the environment: callers (the CLI, the gateway) build the URL, vault key and options.

#![deny(clippy::print_stdout, clippy::print_stderr)]

#[macro_use]
mod macros;

mod batch;
mod bulk;
pub mod console;
pub mod copy;
pub mod error;
mod filter;
pub mod keys;
pub mod legacy;
mod legacy_map;
mod legacy_read;
mod legacy_report;
pub mod logs;
pub mod metrics;
mod migrate;
pub mod prefs;
pub mod queue;
mod rate;
pub mod redact;
pub mod registry;
pub mod responses;
pub mod retention;
mod row;
pub mod store;
pub mod time;
pub mod vault;
pub mod virtual_keys;

pub use console::{Overview, OverviewBucket, ProviderBucket};
pub use copy::{CopyOptions, TableStats, copy_store, table_stats};
pub use error::{Result, StoreError};
pub use keys::{KeySource, ResolvedKey, StoredKey, resolve_provider_key};
pub use legacy::{ImportCounts, LegacyReport, import_legacy};
pub use logs::{ChatLog, ChatLogEntry, LogFilter, LogStatus};
pub use metrics::{MetricGroup, MetricPoint, MetricsSummary};
pub use migrate::{LATEST_VERSION, MigrationReport};
pub use queue::{QueueConfig, QueueSender, QueueStats, Record, WriteQueue};
pub use redact::{RedactConfig, Redactor};
pub use registry::{ModelRecord, RegistrySnapshot};
pub use responses::StoredResponse;
pub use retention::{RetentionHandle, RetentionPolicy, spawn_retention};
pub use store::{Backend, Store, StoreOptions, redact_url};
pub use vault::{VaultKey, mask_secret};
pub use virtual_keys::{NewVirtualKey, VirtualKey, hash_key};
