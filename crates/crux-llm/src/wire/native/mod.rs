//! The native `/api` dialect of the original service (inbound only: no provider speaks it).

pub mod inbound;
