//! Multi-row `INSERT` of [`Value`] rows, shared by the write queue, the legacy import and `copy`.

use sqlx::AssertSqlSafe;

use crate::error::Result;
use crate::row::Value;
use crate::store::Tx;

/// Bound parameters per statement, well under SQLite's and PostgreSQL's limits.
const MAX_PARAMS: usize = 960;
/// Rows per statement at most (bigger statements stop paying off).
const MAX_ROWS: usize = 64;

/// Rows in the next statement for `left` rows at most `per` per statement: `per` while that many are left, then
/// powers of two, so a table sees only a handful of statement texts and each is prepared once and then served from
/// the connection's statement cache (preparing a 60-row `INSERT` anew for each batch cost more than running it).
fn chunk_len(left: usize, per: usize) -> usize {
    if left >= per { per } else { 1 << left.ilog2() }
}

/// `INSERT INTO table (cols) VALUES (…), (…) suffix` for `n` rows. SQLite gets anonymous `?` placeholders:
/// looking up `$N` names costs SQLite a linear scan per parameter, which dominated large batches.
fn insert_sql(table: &str, cols: &[&str], n: usize, suffix: &str, numbered: bool) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    let mut p = 0;
    for r in 0..n {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols.len() {
            p += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            if numbered {
                sql.push('$');
                sql.push_str(&p.to_string());
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    sql
}

/// Inserts `rows` (each in `cols` order) into `table` inside `tx`; returns the rows actually inserted (an
/// `ON CONFLICT … DO NOTHING` suffix can skip some). Table and column names come from this crate, never from input.
pub(crate) async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    cols: &[&str],
    rows: &[Vec<Value>],
    suffix: &str,
) -> Result<u64> {
    let per = (MAX_PARAMS / cols.len().max(1)).clamp(1, MAX_ROWS);
    let mut inserted = 0;
    let mut rest = rows;
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(chunk_len(rest.len(), per));
        rest = after;
        let numbered = matches!(tx, Tx::Postgres(_));
        let sql = insert_sql(table, cols, chunk.len(), suffix, numbered);
        inserted += on_tx!(&mut *tx, conn => {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for row in chunk {
                for v in row {
                    q = bind_value!(q, v);
                }
            }
            q.execute(&mut *conn).await?.rows_affected()
        });
    }
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_take_few_distinct_sizes() {
        let sizes = |mut left: usize, per: usize| {
            let mut out = Vec::new();
            while left > 0 {
                let n = chunk_len(left, per);
                out.push(n);
                left -= n;
            }
            out
        };
        assert_eq!(sizes(125, 32), [32, 32, 32, 16, 8, 4, 1]);
        assert_eq!(sizes(64, 64), [64]);
        assert_eq!(sizes(1, 27), [1]);
        assert_eq!(sizes(60, 27), [27, 27, 4, 2]);
    }

    #[test]
    fn builds_numbered_placeholders() {
        assert_eq!(
            insert_sql("t", &["a", "b"], 2, "ON CONFLICT DO NOTHING", true),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            insert_sql("t", &["a", "b"], 2, "", false),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }
}
