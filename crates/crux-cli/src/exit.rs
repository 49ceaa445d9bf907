//! Command failures and their exit codes: 1 for runtime failures, 2 for usage or configuration errors.

use std::process::ExitCode;

/// A failed command: one line for stderr and an exit code.
#[derive(Debug)]
pub struct Failure {
    /// The message printed after `error: `.
    pub message: String,
    /// 1 (runtime) or 2 (usage/config).
    pub code: u8,
}

impl Failure {
    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }
    /// A provider, network or other runtime failure (exit 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }
    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}
