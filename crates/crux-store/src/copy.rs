//! `crux db copy`: every table from one store to another (SQLite ⇄ PostgreSQL), verified by per-table row counts
//! and an order-independent checksum of every cell.

use sqlx::AssertSqlSafe;

use crate::bulk::insert_rows;
use crate::error::{Result, StoreError};
use crate::migrate::{LATEST_VERSION, hex};
use crate::row::{ColType, RowExt, Value};
use crate::store::{Backend, Store, Tx};

use ColType::{Bool, Int, Real, Text};

/// One table of the portable schema: its columns (with types) and primary key.
pub(crate) struct TableSpec {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [(&'static str, ColType)],
    pub(crate) key: &'static [&'static str],
    /// Whether `id` is a PostgreSQL identity column whose sequence must follow copied ids.
    pub(crate) identity: bool,
}

/// Every table, in an order that satisfies references.
pub(crate) const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "provider_keys",
        columns: &[
            ("provider", Text),
            ("ciphertext", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        key: &["provider"],
        identity: false,
    },
    TableSpec {
        name: "virtual_keys",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("key_hash", Text),
            ("key_prefix", Text),
            ("budget_usd", Real),
            ("rpm", Int),
            ("tpm", Int),
            ("models", Text),
            ("spend_usd", Real),
            ("revoked", Bool),
            ("created_at", Int),
            ("revoked_at", Int),
            ("last_used_at", Int),
        ],
        key: &["id"],
        identity: false,
    },
    TableSpec {
        name: "chat_logs",
        columns: &[
            ("id", Int),
            ("ts", Int),
            ("provider", Text),
            ("model", Text),
            ("route", Text),
            ("status", Text),
            ("error_code", Text),
            ("latency_ms", Int),
            ("ttft_ms", Int),
            ("prompt_tokens", Int),
            ("completion_tokens", Int),
            ("total_tokens", Int),
            ("cached_tokens", Int),
            ("reasoning_tokens", Int),
            ("cost_usd", Real),
            ("virtual_key_id", Text),
            ("request_text", Text),
            ("response_text", Text),
            ("metadata", Text),
            ("import_key", Text),
        ],
        key: &["id"],
        identity: true,
    },
    TableSpec {
        name: "metric_points",
        columns: &[
            ("id", Int),
            ("ts", Int),
            ("provider", Text),
            ("model", Text),
            ("route", Text),
            ("status", Text),
            ("error_code", Text),
            ("latency_ms", Int),
            ("ttft_ms", Int),
            ("prompt_tokens", Int),
            ("completion_tokens", Int),
            ("total_tokens", Int),
            ("cost_usd", Real),
            ("virtual_key_id", Text),
            ("import_key", Text),
        ],
        key: &["id"],
        identity: true,
    },
    TableSpec {
        name: "prefs",
        columns: &[("name", Text), ("value", Text), ("updated_at", Int)],
        key: &["name"],
        identity: false,
    },
    TableSpec {
        name: "model_registry",
        columns: &[
            ("provider", Text),
            ("model_id", Text),
            ("name", Text),
            ("family", Text),
            ("context_length", Int),
            ("capabilities", Text),
            ("updated_at", Text),
        ],
        key: &["provider", "model_id"],
        identity: false,
    },
    TableSpec {
        name: "model_registry_meta",
        columns: &[
            ("provider", Text),
            ("fetched_at", Int),
            ("fetched_via", Text),
            ("metadata", Text),
        ],
        key: &["provider"],
        identity: false,
    },
    TableSpec {
        name: "observed_capabilities",
        columns: &[
            ("provider", Text),
            ("model_id", Text),
            ("feature", Text),
            ("value", Bool),
            ("updated_at", Int),
        ],
        key: &["provider", "model_id", "feature"],
        identity: false,
    },
    TableSpec {
        name: "responses",
        columns: &[
            ("id", Text),
            ("created_at", Int),
            ("model", Text),
            ("status", Text),
            ("virtual_key_id", Text),
            ("input", Text),
            ("response", Text),
        ],
        key: &["id"],
        identity: false,
    },
];

const PAGE: usize = 1000;

/// Row count and checksum of one table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableStats {
    /// Table name.
    pub table: String,
    /// Rows.
    pub rows: u64,
    /// Hex checksum over every cell of every row, independent of row order and backend.
    pub checksum: String,
}

/// Order-independent multiset hash: the wrapping sum of every row's SHA-256.
#[derive(Default)]
struct Acc {
    rows: u64,
    hi: u128,
    lo: u128,
}

impl Acc {
    fn add(&mut self, row: &[Value]) {
        let mut buf = Vec::with_capacity(128);
        for v in row {
            v.encode_canonical(&mut buf);
        }
        let d = ring::digest::digest(&ring::digest::SHA256, &buf);
        let (a, b) = d.as_ref().split_at(16);
        self.hi = self
            .hi
            .wrapping_add(u128::from_le_bytes(a.try_into().unwrap_or([0; 16])));
        self.lo = self
            .lo
            .wrapping_add(u128::from_le_bytes(b.try_into().unwrap_or([0; 16])));
        self.rows += 1;
    }

    fn finish(&self, table: &str) -> TableStats {
        let mut bytes = self.hi.to_le_bytes().to_vec();
        bytes.extend_from_slice(&self.lo.to_le_bytes());
        TableStats {
            table: table.to_owned(),
            rows: self.rows,
            checksum: hex(&bytes),
        }
    }
}

/// Reads up to [`PAGE`] rows of `spec` after the key of `after` (keyset paging in the database's own key order).
async fn read_page(
    tx: &mut Tx,
    spec: &TableSpec,
    after: Option<&[Value]>,
) -> Result<Vec<Vec<Value>>> {
    let cols: Vec<&str> = spec.columns.iter().map(|c| c.0).collect();
    let keys = spec.key.join(", ");
    let key_values: Vec<Value> = match after {
        Some(row) => spec
            .key
            .iter()
            .filter_map(|k| {
                spec.columns
                    .iter()
                    .position(|c| c.0 == *k)
                    .map(|i| row[i].clone())
            })
            .collect(),
        None => Vec::new(),
    };
    let clause = if key_values.is_empty() {
        String::new()
    } else {
        let params: Vec<String> = (1..=key_values.len()).map(|i| format!("${i}")).collect();
        format!("WHERE ({keys}) > ({})", params.join(", "))
    };
    let sql = format!(
        "SELECT {} FROM {} {clause} ORDER BY {keys} LIMIT {PAGE}",
        cols.join(", "),
        spec.name
    );
    let rows = on_tx!(tx, conn => {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for v in &key_values {
            q = bind_value!(q, v);
        }
        let rows = q.fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|r| spec.columns.iter().map(|(c, t)| r.value(c, *t)).collect::<Result<Vec<_>>>())
            .collect::<Result<Vec<_>>>()?
    });
    Ok(rows)
}

/// Walks a table page by page, accumulating its stats.
struct Pager<'a> {
    spec: &'a TableSpec,
    last: Option<Vec<Value>>,
    done: bool,
    acc: Acc,
}

impl<'a> Pager<'a> {
    fn new(spec: &'a TableSpec) -> Self {
        Pager {
            spec,
            last: None,
            done: false,
            acc: Acc::default(),
        }
    }

    async fn next(&mut self, tx: &mut Tx) -> Result<Option<Vec<Vec<Value>>>> {
        if self.done {
            return Ok(None);
        }
        let page = read_page(tx, self.spec, self.last.as_deref()).await?;
        self.done = page.len() < PAGE;
        page.iter().for_each(|r| self.acc.add(r));
        self.last = page.last().cloned();
        Ok((!page.is_empty()).then_some(page))
    }
}

/// Row counts and checksums of every table, from one consistent snapshot.
pub async fn table_stats(store: &Store) -> Result<Vec<TableStats>> {
    let mut tx = store.begin_read().await?;
    let mut out = Vec::with_capacity(TABLES.len());
    for spec in TABLES {
        let mut pager = Pager::new(spec);
        while pager.next(&mut tx).await?.is_some() {}
        out.push(pager.acc.finish(spec.name));
    }
    tx.commit().await?;
    Ok(out)
}

/// How to treat a destination that already holds data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// Delete the destination's rows first (in the same transaction). Without it, a non-empty destination is
    /// refused with [`StoreError::Conflict`].
    pub replace: bool,
}

/// Copies every table of `from` into `to` in one destination transaction (the source is read from one snapshot),
/// then re-reads the destination and compares row counts and checksums table by table. Returns the source's stats.
/// `from` must be migrated to this build's schema version; `to` is migrated first.
pub async fn copy_store(from: &Store, to: &Store, options: CopyOptions) -> Result<Vec<TableStats>> {
    match from.schema_version().await? {
        Some(LATEST_VERSION) => {}
        Some(v) => {
            return Err(StoreError::Schema(format!(
                "the source schema is at version {v}, this crux copies version {LATEST_VERSION}; run \
                 `crux db migrate` on the source first"
            )));
        }
        None => {
            return Err(StoreError::Invalid(
                "the source is not a crux store (no crux_schema_migrations table)".into(),
            ));
        }
    }
    to.migrate().await?;
    let mut occupied = Vec::new();
    for spec in TABLES {
        let n = to.count_rows(spec.name).await?;
        if n > 0 {
            occupied.push(format!("{} {}", n, spec.name));
        }
    }
    if !occupied.is_empty() && !options.replace {
        return Err(StoreError::Conflict(format!(
            "the destination is not empty ({}); use --replace to overwrite it",
            occupied.join(", ")
        )));
    }
    let mut src = from.begin_read().await?;
    let mut dst = to.begin_write().await?;
    if options.replace {
        for spec in TABLES.iter().rev() {
            let sql = format!("DELETE FROM {}", spec.name);
            on_tx!(&mut dst, conn => {
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
            });
        }
    }
    let mut source_stats = Vec::with_capacity(TABLES.len());
    for spec in TABLES {
        let cols: Vec<&str> = spec.columns.iter().map(|c| c.0).collect();
        let mut pager = Pager::new(spec);
        while let Some(page) = pager.next(&mut src).await? {
            insert_rows(&mut dst, spec.name, &cols, &page, "").await?;
        }
        source_stats.push(pager.acc.finish(spec.name));
    }
    if to.backend() == Backend::Postgres {
        for spec in TABLES.iter().filter(|s| s.identity) {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE((SELECT MAX(id) FROM {0}), 0) + 1, false)",
                spec.name
            );
            on_tx!(&mut dst, conn => {
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
            });
        }
    }
    dst.commit().await?;
    src.commit().await?;
    let copied = table_stats(to).await?;
    let mismatches: Vec<String> = source_stats
        .iter()
        .zip(&copied)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| {
            format!(
                "{}: source {} rows ({}), destination {} rows ({})",
                a.table, a.rows, a.checksum, b.rows, b.checksum
            )
        })
        .collect();
    if !mismatches.is_empty() {
        return Err(StoreError::Verify(mismatches.join("; ")));
    }
    Ok(source_stats)
}
