//! One module per `crux` subcommand; each `run` takes its parsed arguments and the [`crate::settings::Settings`]
//! resolved once in `main`.

pub mod bench;
pub mod chat;
pub mod completions;
pub mod db;
pub mod doctor;
pub mod keys;
pub mod keys_export;
pub mod logs;
pub mod metrics;
pub mod mock;
pub mod models;
pub mod serve;
pub mod shell;
pub mod virtual_keys;
