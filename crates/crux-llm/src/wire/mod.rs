//! Wire formats: one module of pure functions per provider dialect, dispatched by `match` on `Wire`.

pub mod openai;
