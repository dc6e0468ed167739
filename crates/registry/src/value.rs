//! Typed registry values: the six Windows value kinds Transit models.

use std::fmt;

/// The kind of a registry value, with its Windows type code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueKind {
    /// `REG_SZ` (1): a string.
    Sz,
    /// `REG_EXPAND_SZ` (2): a string with `%VAR%` references.
    ExpandSz,
    /// `REG_BINARY` (3): raw bytes.
    Binary,
    /// `REG_DWORD` (4): a 32-bit little-endian number.
    Dword,
    /// `REG_MULTI_SZ` (7): a list of non-empty strings.
    MultiSz,
    /// `REG_QWORD` (11): a 64-bit little-endian number.
    Qword,
    /// Any other Windows type code (`REG_NONE` = 0, `REG_LINK` = 6,
    /// `REG_RESOURCE_LIST` = 8, …), whose data Transit keeps as raw bytes.
    Other(u32),
}

impl ValueKind {
    /// All kinds, in type-code order.
    pub const ALL: [ValueKind; 6] = [
        ValueKind::Sz,
        ValueKind::ExpandSz,
        ValueKind::Binary,
        ValueKind::Dword,
        ValueKind::MultiSz,
        ValueKind::Qword,
    ];

    /// The Windows type code (`REG_SZ` = 1, ...).
    pub fn code(self) -> u32 {
        match self {
            ValueKind::Sz => 1,
            ValueKind::ExpandSz => 2,
            ValueKind::Binary => 3,
            ValueKind::Dword => 4,
            ValueKind::MultiSz => 7,
            ValueKind::Qword => 11,
            ValueKind::Other(code) => code,
        }
    }

    /// The kind for any Windows type code: a modelled one, or
    /// [`ValueKind::Other`].
    pub fn for_code(code: u32) -> ValueKind {
        ValueKind::from_code(code).unwrap_or(ValueKind::Other(code))
    }

    /// The kind for a Windows type code, if Transit models it.
    pub fn from_code(code: u32) -> Option<ValueKind> {
        ValueKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The Windows name, such as `REG_SZ`.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Sz => "REG_SZ",
            ValueKind::ExpandSz => "REG_EXPAND_SZ",
            ValueKind::Binary => "REG_BINARY",
            ValueKind::Dword => "REG_DWORD",
            ValueKind::MultiSz => "REG_MULTI_SZ",
            ValueKind::Qword => "REG_QWORD",
            ValueKind::Other(0) => "REG_NONE",
            ValueKind::Other(5) => "REG_DWORD_BIG_ENDIAN",
            ValueKind::Other(6) => "REG_LINK",
            ValueKind::Other(8) => "REG_RESOURCE_LIST",
            ValueKind::Other(9) => "REG_FULL_RESOURCE_DESCRIPTOR",
            ValueKind::Other(10) => "REG_RESOURCE_REQUIREMENTS_LIST",
            ValueKind::Other(_) => "REG_UNKNOWN",
        }
    }

    /// Parses a Windows name (`REG_SZ`, case-insensitive; the `REG_` prefix is optional).
    pub fn from_name(name: &str) -> Option<ValueKind> {
        let upper = name.to_ascii_uppercase();
        let bare = upper.strip_prefix("REG_").unwrap_or(&upper);
        ValueKind::ALL.into_iter().find(|k| &k.name()[4..] == bare)
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A registry value's data, tagged with its kind.
///
/// Invariant (checked by [`ValueData::validate`] and every store write): a
/// `MultiSz` holds no empty string, because Windows uses an empty string as
/// the list terminator; no string holds a NUL character.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueData {
    /// `REG_SZ`.
    Sz(String),
    /// `REG_EXPAND_SZ`.
    ExpandSz(String),
    /// `REG_BINARY`.
    Binary(Vec<u8>),
    /// `REG_DWORD`.
    Dword(u32),
    /// `REG_MULTI_SZ`.
    MultiSz(Vec<String>),
    /// `REG_QWORD`.
    Qword(u64),
    /// Typed data kept exactly as given: a type Transit does not model
    /// (`hex(0)`, `hex(5)`, `hex(8)`, …, which real regedit exports hold),
    /// or a number whose width is not its type's (a 3-byte `hex(b)`), so
    /// it is written back byte for byte, never padded.
    Raw {
        /// The Windows type code.
        kind: u32,
        /// The data bytes.
        bytes: Vec<u8>,
    },
}

/// Why a [`ValueData`] cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    /// A string contains U+0000, which Windows treats as a terminator.
    #[error("string contains a NUL character")]
    NulInString,
    /// A multi-string list contains an empty string.
    #[error("REG_MULTI_SZ cannot contain an empty string")]
    EmptyMultiSzItem,
}

impl ValueData {
    /// The value's kind.
    pub fn kind(&self) -> ValueKind {
        match self {
            ValueData::Sz(_) => ValueKind::Sz,
            ValueData::ExpandSz(_) => ValueKind::ExpandSz,
            ValueData::Binary(_) => ValueKind::Binary,
            ValueData::Dword(_) => ValueKind::Dword,
            ValueData::MultiSz(_) => ValueKind::MultiSz,
            ValueData::Qword(_) => ValueKind::Qword,
            ValueData::Raw { kind, .. } => ValueKind::for_code(*kind),
        }
    }

    /// Checks the invariants Windows imposes on value data.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let no_nul = |s: &str| {
            if s.contains('\0') {
                Err(InvalidValue::NulInString)
            } else {
                Ok(())
            }
        };
        match self {
            ValueData::Sz(s) | ValueData::ExpandSz(s) => no_nul(s),
            ValueData::MultiSz(items) => items.iter().try_for_each(|s| {
                if s.is_empty() {
                    Err(InvalidValue::EmptyMultiSzItem)
                } else {
                    no_nul(s)
                }
            }),
            ValueData::Binary(_)
            | ValueData::Dword(_)
            | ValueData::Qword(_)
            | ValueData::Raw { .. } => Ok(()),
        }
    }

    /// The string, for `REG_SZ` and `REG_EXPAND_SZ`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ValueData::Sz(s) | ValueData::ExpandSz(s) => Some(s),
            _ => None,
        }
    }

    /// The number, for `REG_DWORD`.
    pub fn as_dword(&self) -> Option<u32> {
        match self {
            ValueData::Dword(n) => Some(*n),
            _ => None,
        }
    }

    /// Encodes the data as the bytes Windows stores (strings as UTF-16LE with
    /// terminators, numbers little-endian). This is the storage encoding and
    /// the `hex(...)` payload of a REGEDIT5 file.
    pub fn to_windows_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.append_windows_bytes(&mut out);
        out
    }

    /// Appends the [`to_windows_bytes`](Self::to_windows_bytes) encoding to
    /// `out`, so bulk writers can reuse one buffer.
    pub fn append_windows_bytes(&self, out: &mut Vec<u8>) {
        fn utf16z(s: &str, out: &mut Vec<u8>) {
            for unit in s.encode_utf16() {
                out.extend_from_slice(&unit.to_le_bytes());
            }
            out.extend_from_slice(&[0, 0]);
        }
        match self {
            ValueData::Sz(s) | ValueData::ExpandSz(s) => utf16z(s, out),
            ValueData::MultiSz(items) => {
                for s in items {
                    utf16z(s, out);
                }
                out.extend_from_slice(&[0, 0]);
            }
            ValueData::Binary(b) => out.extend_from_slice(b),
            ValueData::Dword(n) => out.extend_from_slice(&n.to_le_bytes()),
            ValueData::Qword(n) => out.extend_from_slice(&n.to_le_bytes()),
            ValueData::Raw { bytes, .. } => out.extend_from_slice(bytes),
        }
    }

    /// Decodes Windows bytes of the given kind (the inverse of
    /// [`to_windows_bytes`](Self::to_windows_bytes)). Lenient as Windows is:
    /// a missing terminator is accepted; a short number, and any type
    /// Transit does not model, is kept as [`ValueData::Raw`] bytes.
    /// Returns `None` when the bytes cannot be a value of that kind (odd
    /// UTF-16 length, unpaired surrogate, oversized number).
    pub fn from_windows_bytes(kind: ValueKind, bytes: &[u8]) -> Option<ValueData> {
        fn utf16(bytes: &[u8]) -> Option<Vec<u16>> {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            Some(
                bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            )
        }
        fn number(bytes: &[u8], width: usize) -> Option<u64> {
            if bytes.len() > width {
                return None;
            }
            let mut buf = [0u8; 8];
            buf[..bytes.len()].copy_from_slice(bytes);
            Some(u64::from_le_bytes(buf))
        }
        Some(match kind {
            ValueKind::Sz | ValueKind::ExpandSz => {
                let units = utf16(bytes)?;
                let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
                let s = String::from_utf16(&units[..end]).ok()?;
                if kind == ValueKind::Sz {
                    ValueData::Sz(s)
                } else {
                    ValueData::ExpandSz(s)
                }
            }
            ValueKind::MultiSz => {
                let units = utf16(bytes)?;
                let mut items = Vec::new();
                for part in units.split(|&u| u == 0) {
                    if part.is_empty() {
                        break;
                    }
                    items.push(String::from_utf16(part).ok()?);
                }
                ValueData::MultiSz(items)
            }
            ValueKind::Binary => ValueData::Binary(bytes.to_vec()),
            ValueKind::Dword | ValueKind::Qword if bytes.len() < width(kind) => ValueData::Raw {
                kind: kind.code(),
                bytes: bytes.to_vec(),
            },
            ValueKind::Dword => ValueData::Dword(number(bytes, 4)? as u32),
            ValueKind::Qword => ValueData::Qword(number(bytes, 8)?),
            ValueKind::Other(code) => ValueData::Raw {
                kind: code,
                bytes: bytes.to_vec(),
            },
        })
    }
}

impl fmt::Display for ValueData {
    /// A one-line human rendering, as `transit registry get` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueData::Sz(s) | ValueData::ExpandSz(s) => f.write_str(s),
            ValueData::MultiSz(items) => f.write_str(&items.join("\n")),
            ValueData::Binary(b) => {
                for (i, byte) in b.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
            ValueData::Dword(n) => write!(f, "{n}"),
            ValueData::Qword(n) => write!(f, "{n}"),
            ValueData::Raw { kind, bytes } => {
                write!(f, "hex({kind:x}):")?;
                for (i, byte) in bytes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// The byte width of a number kind.
fn width(kind: ValueKind) -> usize {
    match kind {
        ValueKind::Dword => 4,
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_round_trip() {
        for kind in ValueKind::ALL {
            assert_eq!(ValueKind::from_code(kind.code()), Some(kind));
            assert_eq!(ValueKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ValueKind::from_name("dword"), Some(ValueKind::Dword));
        assert_eq!(ValueKind::from_code(0), None);
    }

    #[test]
    fn windows_bytes_round_trip() {
        let samples = [
            ValueData::Sz("héllo".into()),
            ValueData::ExpandSz("%SystemRoot%\\x".into()),
            ValueData::MultiSz(vec!["a".into(), "bc".into()]),
            ValueData::MultiSz(vec![]),
            ValueData::Binary(vec![0, 1, 255]),
            ValueData::Dword(0xdead_beef),
            ValueData::Qword(u64::MAX),
        ];
        for v in samples {
            let bytes = v.to_windows_bytes();
            assert_eq!(ValueData::from_windows_bytes(v.kind(), &bytes), Some(v));
        }
    }

    #[test]
    fn validation_rejects_windows_impossible_data() {
        assert_eq!(
            ValueData::MultiSz(vec!["a".into(), String::new()]).validate(),
            Err(InvalidValue::EmptyMultiSzItem)
        );
        assert_eq!(
            ValueData::Sz("a\0b".into()).validate(),
            Err(InvalidValue::NulInString)
        );
        assert!(ValueData::Sz(String::new()).validate().is_ok());
    }
}
