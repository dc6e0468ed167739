//! The canonical form of a value, defined once, so that equal values on
//! different engines hash equal (docs/dbassist.md, "Validation").
//!
//! Each cell becomes a tag byte, its length (u32, little-endian) and its
//! bytes:
//!
//! | column type | tag | bytes |
//! |---|---|---|
//! | any, NULL | `N` | none |
//! | smallint, int, bigint | `i` | the decimal integer, no sign for positives, no leading zeros |
//! | … holding text that is no integer (SQLite's loose typing) | `t` | the text as stored |
//! | float | `f` | the shortest decimal that reads back as the same IEEE double (`inf`, `-inf`, `NaN`) |
//! | … holding text that is no number | `t` | the text as stored |
//! | varchar, text | `s` | the UTF-8 bytes, as stored |
//! | char(n) | `s` | the UTF-8 bytes without trailing spaces (CHAR compares blank-padded) |
//! | timestamp | `d` | `YYYY-MM-DD hh:mm:ss` (a `T` separator becomes a space; a zero fraction is dropped) |
//! | blob | `b` | the raw bytes |
//!
//! A row's digest is SHA-256 over its cells in column order; a table's
//! checksum is the row count and the lane-wise sum (mod 2^64) of the
//! digests' four 64-bit lanes, so it does not depend on row order, and a
//! row can be taken out again (rejects) by subtracting its digest.

use crate::schema::SqlType;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// How a column's cells are made canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanonKind {
    /// smallint, int, bigint.
    Int,
    /// float.
    Float,
    /// varchar, text.
    Text,
    /// char(n).
    Char,
    /// timestamp.
    Timestamp,
    /// blob.
    Blob,
}

impl CanonKind {
    /// The kind of a column type.
    pub fn of(ty: SqlType) -> CanonKind {
        match ty {
            SqlType::SmallInt | SqlType::Int | SqlType::BigInt => CanonKind::Int,
            SqlType::Float => CanonKind::Float,
            SqlType::Varchar(_) | SqlType::Text => CanonKind::Text,
            SqlType::Char(_) => CanonKind::Char,
            SqlType::Timestamp => CanonKind::Timestamp,
            SqlType::Blob => CanonKind::Blob,
        }
    }
}

fn put(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Like [`put`], with the bytes written by `write` straight into `out`
/// (no allocation per cell); the length is filled in afterwards.
fn put_with(out: &mut Vec<u8>, tag: u8, write: impl FnOnce(&mut Vec<u8>)) {
    out.push(tag);
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    write(out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// Appends the decimal form of `n` (no sign for positives, no leading zeros).
fn put_int(out: &mut Vec<u8>, n: i64) {
    put_with(out, b'i', |out| {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{n}");
    });
}

/// Appends the canonical form of one cell.
pub fn cell(kind: CanonKind, value: Option<&[u8]>, out: &mut Vec<u8>) {
    let Some(v) = value else {
        out.push(b'N');
        return;
    };
    match kind {
        CanonKind::Int => match std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
        {
            Some(n) => put_int(out, n),
            None => match float_text(v) {
                // A float with no fraction in an integer column (SQLite REAL).
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => put_int(out, f as i64),
                _ => put(out, b't', v),
            },
        },
        CanonKind::Float => match float_text(v) {
            Some(f) => put_with(out, b'f', |out| write_float(out, f)),
            None => put(out, b't', v),
        },
        CanonKind::Text => put(out, b's', v),
        CanonKind::Char => {
            let end = v.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
            put(out, b's', &v[..end]);
        }
        CanonKind::Timestamp => put(out, b'd', timestamp_canon(v).as_ref()),
        CanonKind::Blob => put(out, b'b', v),
    }
}

fn float_text(v: &[u8]) -> Option<f64> {
    std::str::from_utf8(v).ok()?.trim().parse::<f64>().ok()
}

/// The shortest text that reads back as `f`.
pub fn float_canon(f: f64) -> String {
    let mut out = Vec::new();
    write_float(&mut out, f);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends [`float_canon`]'s text of `f` to `out`.
fn write_float(out: &mut Vec<u8>, f: f64) {
    use std::io::Write;
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"inf" } else { b"-inf" });
    } else {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{f}");
    }
}

/// The canonical timestamp text: borrowed unless a `T` separator or a
/// zero fraction has to change.
fn timestamp_canon(v: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let t_sep = v.len() >= 19 && v[10] == b'T';
    let zero_fraction = v.len() > 19 && v[19] == b'.' && v[20..].iter().all(|&b| b == b'0');
    if !t_sep && !zero_fraction {
        return std::borrow::Cow::Borrowed(v);
    }
    let mut out = v.to_vec();
    if t_sep {
        out[10] = b' ';
    }
    if zero_fraction {
        out.truncate(19);
    }
    std::borrow::Cow::Owned(out)
}

/// The digest of one row given its cells and column kinds; `scratch` is
/// reused between rows.
pub fn row_digest<'a>(
    kinds: &[CanonKind],
    cells: impl Iterator<Item = Option<&'a [u8]>>,
    scratch: &mut Vec<u8>,
) -> [u8; 32] {
    scratch.clear();
    for (kind, value) in kinds.iter().zip(cells) {
        cell(*kind, value, scratch);
    }
    Sha256::digest(&scratch[..]).into()
}

/// A table's order-independent checksum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    /// Rows counted.
    pub rows: u64,
    /// The lane-wise sum of the row digests.
    pub sum: [u64; 4],
}

fn lanes(digest: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, lane) in out.iter_mut().enumerate() {
        *lane = u64::from_le_bytes(digest[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    }
    out
}

impl Checksum {
    /// Adds a row.
    pub fn add(&mut self, digest: &[u8; 32]) {
        self.rows += 1;
        for (s, l) in self.sum.iter_mut().zip(lanes(digest)) {
            *s = s.wrapping_add(l);
        }
    }

    /// Takes a row out (a rejected row that never reached the target).
    pub fn remove(&mut self, digest: &[u8; 32]) {
        self.rows = self.rows.saturating_sub(1);
        for (s, l) in self.sum.iter_mut().zip(lanes(digest)) {
            *s = s.wrapping_sub(l);
        }
    }

    /// Adds another checksum.
    pub fn merge(&mut self, other: &Checksum) {
        self.rows += other.rows;
        for (s, l) in self.sum.iter_mut().zip(other.sum) {
            *s = s.wrapping_add(l);
        }
    }

    /// Takes another checksum out.
    pub fn subtract(&mut self, other: &Checksum) {
        self.rows = self.rows.saturating_sub(other.rows);
        for (s, l) in self.sum.iter_mut().zip(other.sum) {
            *s = s.wrapping_sub(l);
        }
    }

    /// The hex text of the sum (without the count).
    pub fn hex(&self) -> String {
        self.sum.iter().map(|l| format!("{l:016x}")).collect()
    }

    /// Reads [`Checksum::hex`] back.
    pub fn from_hex(rows: u64, text: &str) -> Option<Checksum> {
        if text.len() != 64 {
            return None;
        }
        let mut sum = [0u64; 4];
        for (i, lane) in sum.iter_mut().enumerate() {
            *lane = u64::from_str_radix(&text[i * 16..i * 16 + 16], 16).ok()?;
        }
        Some(Checksum { rows, sum })
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows, {}", self.rows, &self.hex()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(kind: CanonKind, v: Option<&str>) -> Vec<u8> {
        let mut out = Vec::new();
        cell(kind, v.map(str::as_bytes), &mut out);
        out
    }

    #[test]
    fn equal_values_from_different_engines_are_equal() {
        // PostgreSQL pads CHAR, MariaDB strips it, SQLite keeps what it got.
        assert_eq!(
            canon(CanonKind::Char, Some("In      ")),
            canon(CanonKind::Char, Some("In"))
        );
        assert_eq!(
            canon(CanonKind::Float, Some("0.1")),
            canon(CanonKind::Float, Some("0.10000000000000001"))
        );
        assert_eq!(
            canon(CanonKind::Int, Some("3.0")),
            canon(CanonKind::Int, Some("3"))
        );
        assert_eq!(
            canon(CanonKind::Timestamp, Some("2013-03-10T02:30:00")),
            canon(CanonKind::Timestamp, Some("2013-03-10 02:30:00.000"))
        );
        // Text in an integer column stays text; NULL differs from empty.
        assert_ne!(
            canon(CanonKind::Int, Some("12 s")),
            canon(CanonKind::Int, Some("12"))
        );
        assert_ne!(
            canon(CanonKind::Text, None),
            canon(CanonKind::Text, Some(""))
        );
        assert_ne!(
            canon(CanonKind::Text, Some("In  ")),
            canon(CanonKind::Text, Some("In"))
        );
    }

    #[test]
    fn checksums_ignore_order_and_take_rows_out() {
        let kinds = [CanonKind::Int, CanonKind::Text];
        let mut scratch = Vec::new();
        let a = row_digest(
            &kinds,
            [Some(&b"1"[..]), Some(b"x")].into_iter(),
            &mut scratch,
        );
        let b = row_digest(&kinds, [Some(&b"2"[..]), None].into_iter(), &mut scratch);
        let (mut x, mut y) = (Checksum::default(), Checksum::default());
        x.add(&a);
        x.add(&b);
        y.add(&b);
        y.add(&a);
        assert_eq!(x, y);
        x.remove(&b);
        let mut z = Checksum::default();
        z.add(&a);
        assert_eq!(x, z);
        assert_eq!(Checksum::from_hex(1, &z.hex()), Some(z));
    }
}
