//! Tables (boxed with comfy-table on a terminal, plain aligned text in pipes) and small formatting helpers shared
//! by the commands.

use std::io::{IsTerminal, Write};

use crate::exit::Failure;

/// Writes `rows` under `headers` with columns padded to their widest cell (the last column is not padded).
pub fn table(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> Result<(), Failure> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len().saturating_sub(1);
        let mut s = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i == last {
                s.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                s.push_str(cell);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(out, "{}", line(headers.to_vec())).map_err(io_failure)?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect())).map_err(io_failure)?;
    }
    Ok(())
}

/// Writes a table to `out`, which is stdout: boxed when stdout is a terminal, else the plain [`table`] (stable for
/// scripts and tests).
pub fn print_table(
    out: &mut impl Write,
    headers: &[&str],
    rows: &[Vec<String>],
) -> Result<(), Failure> {
    if !std::io::stdout().is_terminal() {
        return table(out, headers, rows);
    }
    let mut t = boxed(headers, rows);
    if let Ok(size) = rustix::termios::tcgetwinsize(std::io::stdout())
        && size.ws_col > 20
    {
        // Wider than the terminal would wrap the borders: let long cells wrap inside their column instead.
        t.set_width(size.ws_col)
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    }
    writeln!(out, "{t}").map_err(io_failure)
}

/// The table drawn with box characters.
pub fn boxed(headers: &[&str], rows: &[Vec<String>]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED.with_rounded_corners())
        .set_header(headers.iter().copied());
    for row in rows {
        t.add_row(row.iter().map(String::as_str));
    }
    t
}

/// A failure to write to stdout.
pub fn io_failure(e: std::io::Error) -> Failure {
    Failure::runtime(format!("cannot write output: {e}"))
}

/// `-` for a missing value.
pub fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// A one-line preview of text: whitespace collapsed, cut to `max` characters with an ellipsis.
pub fn preview(text: Option<&str>, max: usize) -> String {
    let Some(text) = text else {
        return "-".to_owned();
    };
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Epoch ms as `2024-05-01 12:00:00Z`.
pub fn when(ms: i64) -> String {
    let s = crux_store::time::format_ms(ms);
    format!("{} {}Z", &s[..10], &s[11..19])
}

/// Pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::runtime(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(io_failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let mut out = Vec::new();
        let rows = vec![vec![
            "openai".to_owned(),
            "vault".to_owned(),
            "sk-…abcd".to_owned(),
        ]];
        table(&mut out, &["PROVIDER", "SOURCE", "KEY"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "PROVIDER  SOURCE  KEY\nopenai    vault   sk-…abcd\n"
        );
        assert_eq!(preview(Some("a\n  b"), 10), "a b");
        assert_eq!(preview(Some("abcdefghijkl"), 5), "abcd…");
        assert_eq!(when(1_714_564_800_123), "2024-05-01 12:00:00Z");
    }
}
