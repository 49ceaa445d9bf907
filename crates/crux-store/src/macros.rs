//! Dispatch macros: run one body against whichever backend a [`crate::Store`] or transaction holds.
//!
//! The body is expanded once per backend, so `sqlx::query(SQL)` is typed for SQLite in one arm and for PostgreSQL
//! in the other; SQL that is the same in both dialects is written once (`$1` placeholders work in both).

/// `on_pool!(store, pool => body)`: `pool` is `&SqlitePool` or `&PgPool`.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// `on_tx!(tx, conn => body)`: `conn` is `&mut SqliteConnection` or `&mut PgConnection` inside the transaction.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// `sql!(tx_or_store, "sqlite text", "postgres text")`: the statement for this backend.
macro_rules! pick_sql {
    ($backend:expr, $sqlite:expr, $postgres:expr) => {
        match $backend {
            $crate::store::Backend::Sqlite => $sqlite,
            $crate::store::Backend::Postgres => $postgres,
        }
    };
}

/// `bind_value!(query, &value)`: binds a [`Value`] with its column type.
macro_rules! bind_value {
    ($q:expr, $v:expr) => {
        match $v {
            $crate::row::Value::Int(x) => $q.bind(*x),
            $crate::row::Value::Real(x) => $q.bind(*x),
            $crate::row::Value::Text(x) => $q.bind(x.clone()),
            $crate::row::Value::Bool(x) => $q.bind(*x),
        }
    };
}
