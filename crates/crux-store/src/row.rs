//! Backend-neutral row access ([`RowExt`]) and dynamically typed values ([`Value`]) for copy and checksums.

use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::error::{Result, StoreError};

/// Typed column access that works the same on both backends. SQLite is dynamically typed, so its numbers are
/// read with coercion (an integral REAL or a legacy text number still reads); PostgreSQL is read strictly.
pub(crate) trait RowExt {
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn opt_real(&self, col: &str) -> Result<Option<f64>>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn opt_flag(&self, col: &str) -> Result<Option<bool>>;

    fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?.ok_or_else(|| null(col))
    }
    fn real(&self, col: &str) -> Result<f64> {
        self.opt_real(col)?.ok_or_else(|| null(col))
    }
    fn text(&self, col: &str) -> Result<String> {
        self.opt_text(col)?.ok_or_else(|| null(col))
    }
    fn flag(&self, col: &str) -> Result<bool> {
        self.opt_flag(col)?.ok_or_else(|| null(col))
    }
    /// Reads a column as the given type.
    fn value(&self, col: &str, ty: ColType) -> Result<Value> {
        Ok(match ty {
            ColType::Int => Value::Int(self.opt_int(col)?),
            ColType::Real => Value::Real(self.opt_real(col)?),
            ColType::Text => Value::Text(self.opt_text(col)?),
            ColType::Bool => Value::Bool(self.opt_flag(col)?),
        })
    }
}

fn null(col: &str) -> StoreError {
    StoreError::Corrupt(format!("column {col} is unexpectedly NULL"))
}

impl RowExt for SqliteRow {
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.try_get_unchecked(col)?)
    }
    fn opt_real(&self, col: &str) -> Result<Option<f64>> {
        Ok(self.try_get_unchecked(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get_unchecked(col)?)
    }
    fn opt_flag(&self, col: &str) -> Result<Option<bool>> {
        Ok(self
            .try_get_unchecked::<Option<i64>, _>(col)?
            .map(|v| v != 0))
    }
}

impl RowExt for PgRow {
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.try_get(col)?)
    }
    fn opt_real(&self, col: &str) -> Result<Option<f64>> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get(col)?)
    }
    fn opt_flag(&self, col: &str) -> Result<Option<bool>> {
        Ok(self.try_get(col)?)
    }
}

/// A column's type in the portable schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColType {
    /// INTEGER / BIGINT.
    Int,
    /// REAL / DOUBLE PRECISION.
    Real,
    /// TEXT.
    Text,
    /// INTEGER 0/1 / BOOLEAN.
    Bool,
}

/// One nullable cell, typed so a NULL is still bound with its column's type (PostgreSQL needs that).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

impl Value {
    /// Feeds a canonical, backend-independent encoding of the cell into `out` (for checksums).
    pub(crate) fn encode_canonical(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(None) | Value::Real(None) | Value::Text(None) | Value::Bool(None) => {
                out.push(0);
            }
            Value::Int(Some(v)) => {
                out.push(1);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Value::Real(Some(v)) => {
                out.push(2);
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
            Value::Text(Some(v)) => {
                out.push(3);
                out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                out.extend_from_slice(v.as_bytes());
            }
            Value::Bool(Some(v)) => {
                out.push(4);
                out.push(u8::from(*v));
            }
        }
    }
}

/// Clamps a token count or duration to the signed range the databases store.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The inverse of [`to_i64`] for reading counts back (negative values read as 0).
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
