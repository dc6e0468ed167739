//! Writing `.reg` files exactly as `regedit /e` does.
//!
//! Each line is assembled in a reused `String`, then encoded into a reused
//! byte buffer and handed to an internal 256 KiB [`BufWriter`].

use std::io::{BufWriter, Write};

use encoding_rs::{EncoderResult, WINDOWS_1252};

use super::{RegErrorKind, RegFileError, RegFormat};
use crate::value::ValueData;

/// Size of the internal write buffer.
const BUFFER_SIZE: usize = 256 * 1024;

/// A `hex` line is wrapped once it reaches this many characters (Wine's and
/// Windows' `MAX_HEX_CHARS`).
const MAX_HEX_CHARS: usize = 77;

/// Lowercase hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// What the last key line was, which decides whether values may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    Key,
    Deleted,
}

/// Writes a `.reg` file in the given [`RegFormat`].
///
/// Output is buffered internally; call [`finish`](Self::finish) to close the
/// last key block, flush, and get the writer back.
pub struct RegWriter<W: Write> {
    out: BufWriter<W>,
    format: RegFormat,
    block: Block,
    /// The current key path, for error messages.
    key: String,
    /// The line being assembled.
    text: String,
    /// The encoded line.
    bytes: Vec<u8>,
    /// A `hex` payload.
    payload: Vec<u8>,
}

impl<W: Write> RegWriter<W> {
    /// Starts a file: the byte-order mark (REGEDIT5), the header and a blank
    /// line.
    pub fn new(writer: W, format: RegFormat) -> Result<Self, RegFileError> {
        let mut w = RegWriter {
            out: BufWriter::with_capacity(BUFFER_SIZE, writer),
            format,
            block: Block::None,
            key: String::new(),
            text: String::new(),
            bytes: Vec::new(),
            payload: Vec::new(),
        };
        if format == RegFormat::Regedit5 {
            w.out.write_all(&[0xFF, 0xFE])?;
        }
        w.text.push_str(format.header());
        w.text.push_str("\r\n\r\n");
        w.emit(String::new)?;
        Ok(w)
    }

    /// Starts a key block, `[full_path]`.
    pub fn key(&mut self, full_path: &str) -> Result<(), RegFileError> {
        if full_path.starts_with('-') {
            let msg = format!("key path `{full_path}` starts with '-', which reads as a deletion");
            return Err(unrepresentable(msg));
        }
        self.key_line(full_path, "[")?;
        self.block = Block::Key;
        Ok(())
    }

    /// Writes a key deletion, `[-full_path]`.
    pub fn delete_key(&mut self, full_path: &str) -> Result<(), RegFileError> {
        self.key_line(full_path, "[-")?;
        self.block = Block::Deleted;
        Ok(())
    }

    /// Writes `name=data` in the current key block (`None` or `""` is the
    /// default value `@`). A `REG_SZ` holding CR or LF is written as
    /// `hex(1):` so that it survives a round trip.
    pub fn value(&mut self, name: Option<&str>, data: &ValueData) -> Result<(), RegFileError> {
        self.check_block(name)?;
        if let Err(e) = data.validate() {
            let msg = format!("{} in [{}]: {e}", describe(name), self.key);
            return Err(RegFileError::new(RegErrorKind::InvalidValue(msg), 0, 0));
        }
        self.text.clear();
        self.push_name(name)?;
        match data {
            ValueData::Sz(s) if !s.contains(['\r', '\n']) => {
                self.text.push('"');
                push_escaped(&mut self.text, s);
                self.text.push('"');
            }
            ValueData::Dword(n) => {
                self.text.push_str("dword:");
                for shift in (0..8).rev() {
                    self.text
                        .push(char::from(HEX[(n >> (shift * 4)) as usize & 0xF]));
                }
            }
            _ => self.push_hex(name, data)?,
        }
        self.text.push_str("\r\n");
        self.emit(|| describe(name))
    }

    /// Writes a value deletion, `name=-`, in the current key block.
    pub fn delete_value(&mut self, name: Option<&str>) -> Result<(), RegFileError> {
        self.check_block(name)?;
        self.text.clear();
        self.push_name(name)?;
        self.text.push_str("-\r\n");
        self.emit(|| describe(name))
    }

    /// Closes the last key block, flushes, and returns the inner writer.
    pub fn finish(mut self) -> Result<W, RegFileError> {
        if self.block != Block::None {
            self.text.clear();
            self.text.push_str("\r\n");
            self.emit(String::new)?;
        }
        self.out.into_inner().map_err(|e| e.into_error().into())
    }

    /// Writes a key line after closing the previous block.
    fn key_line(&mut self, path: &str, open: &str) -> Result<(), RegFileError> {
        if path.is_empty() || path.contains(['\r', '\n', '\0']) {
            let msg = format!("key path {path:?} is empty or holds CR, LF or NUL");
            return Err(unrepresentable(msg));
        }
        self.key.clear();
        self.key.push_str(path);
        self.text.clear();
        if self.block != Block::None {
            self.text.push_str("\r\n");
        }
        self.text.push_str(open);
        self.text.push_str(path);
        self.text.push_str("]\r\n");
        self.emit(|| "the key path".to_owned())
    }

    /// Fails unless a key block is open.
    fn check_block(&self, name: Option<&str>) -> Result<(), RegFileError> {
        let msg = match self.block {
            Block::Key => return Ok(()),
            Block::None => format!("{} written before any key", describe(name)),
            Block::Deleted => format!("{} written after deleting [{}]", describe(name), self.key),
        };
        Err(RegFileError::new(RegErrorKind::Syntax(msg), 0, 0))
    }

    /// Appends `@=` or `"name"=`.
    fn push_name(&mut self, name: Option<&str>) -> Result<(), RegFileError> {
        match name {
            None | Some("") => self.text.push_str("@="),
            Some(n) => {
                if n.contains('\0') {
                    let msg = format!("{} in [{}] contains NUL", describe(name), self.key);
                    return Err(unrepresentable(msg));
                }
                self.text.push('"');
                push_escaped(&mut self.text, n);
                self.text.push_str("\"=");
            }
        }
        Ok(())
    }

    /// Appends `hex...:` and the wrapped byte list of `data`.
    fn push_hex(&mut self, name: Option<&str>, data: &ValueData) -> Result<(), RegFileError> {
        self.payload.clear();
        let format = self.format;
        let strings = |s: &str, payload: &mut Vec<u8>| -> Result<(), RegFileError> {
            match format {
                RegFormat::Regedit5 => {
                    payload.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
                    payload.extend_from_slice(&[0, 0]);
                    Ok(())
                }
                RegFormat::Regedit4 => {
                    encode_ansi(s, payload)
                        .map_err(|c| self_unrepresentable(name, &self.key, c))?;
                    payload.push(0);
                    Ok(())
                }
            }
        };
        let prefix = match data {
            ValueData::Sz(s) => {
                strings(s, &mut self.payload)?;
                "hex(1):"
            }
            ValueData::ExpandSz(s) => {
                strings(s, &mut self.payload)?;
                "hex(2):"
            }
            ValueData::MultiSz(items) => {
                for s in items {
                    strings(s, &mut self.payload)?;
                }
                let nul: &[u8] = if format == RegFormat::Regedit5 {
                    &[0, 0]
                } else {
                    &[0]
                };
                self.payload.extend_from_slice(nul);
                "hex(7):"
            }
            ValueData::Binary(b) => {
                self.payload.extend_from_slice(b);
                "hex:"
            }
            ValueData::Qword(n) => {
                self.payload.extend_from_slice(&n.to_le_bytes());
                "hex(b):"
            }
            ValueData::Dword(n) => {
                self.payload.extend_from_slice(&n.to_le_bytes());
                "hex(4):"
            }
            ValueData::Raw { kind, bytes } => {
                self.payload.extend_from_slice(bytes);
                self.text.push_str(&format!("hex({kind:x}):"));
                ""
            }
        };
        self.text.push_str(prefix);
        let mut line_len = if self.text.is_ascii() {
            self.text.len()
        } else {
            self.text.encode_utf16().count()
        };
        push_hex_bytes(&mut self.text, &self.payload, &mut line_len);
        Ok(())
    }

    /// Encodes `self.text` in the file's encoding and writes it. `what`
    /// names the item for an `Unrepresentable` error.
    fn emit(&mut self, what: impl FnOnce() -> String) -> Result<(), RegFileError> {
        self.bytes.clear();
        match self.format {
            RegFormat::Regedit5 => {
                self.bytes
                    .extend(self.text.encode_utf16().flat_map(u16::to_le_bytes));
            }
            RegFormat::Regedit4 => {
                if let Err(c) = encode_ansi(&self.text, &mut self.bytes) {
                    let msg = format!(
                        "{} in [{}] contains {c:?} (U+{:04X}), which REGEDIT4 (Windows-1252) cannot hold",
                        what(),
                        self.key,
                        u32::from(c)
                    );
                    return Err(unrepresentable(msg));
                }
            }
        }
        self.out.write_all(&self.bytes)?;
        Ok(())
    }
}

/// Appends the bytes as `xx,xx,...`, wrapping as Wine's `export_hex_data`.
fn push_hex_bytes(text: &mut String, bytes: &[u8], line_len: &mut usize) {
    let Some(last) = bytes.len().checked_sub(1) else {
        return;
    };
    for (i, &b) in bytes.iter().enumerate() {
        text.push(char::from(HEX[usize::from(b >> 4)]));
        text.push(char::from(HEX[usize::from(b & 0xF)]));
        if i == last {
            break;
        }
        text.push(',');
        *line_len += 3;
        if *line_len >= MAX_HEX_CHARS {
            text.push_str("\\\r\n  ");
            *line_len = 2;
        }
    }
}

/// Appends `s` with `\` and `"` escaped (and CR/LF as `\r`/`\n`, which only
/// value names can hold here).
fn push_escaped(text: &mut String, s: &str) {
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '\\' => "\\\\",
            '"' => "\\\"",
            '\n' => "\\n",
            '\r' => "\\r",
            _ => continue,
        };
        text.push_str(&s[run..i]);
        text.push_str(esc);
        run = i + 1;
    }
    text.push_str(&s[run..]);
}

/// Encodes `s` as Windows-1252 onto `out`; the first unmappable character is
/// the error.
fn encode_ansi(s: &str, out: &mut Vec<u8>) -> Result<(), char> {
    if s.is_ascii() {
        out.extend_from_slice(s.as_bytes());
        return Ok(());
    }
    let mut encoder = WINDOWS_1252.new_encoder();
    let mut src = s;
    loop {
        out.reserve(src.len() + 16);
        let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(src, out, true);
        src = &src[read..];
        match result {
            EncoderResult::InputEmpty => return Ok(()),
            EncoderResult::OutputFull => {}
            EncoderResult::Unmappable(c) => return Err(c),
        }
    }
}

/// Names a value for messages.
fn describe(name: Option<&str>) -> String {
    match name {
        None | Some("") => "the default value".to_owned(),
        Some(n) => format!("value {n:?}"),
    }
}

/// An `Unrepresentable` error without a location.
fn unrepresentable(msg: String) -> RegFileError {
    RegFileError::new(RegErrorKind::Unrepresentable(msg), 0, 0)
}

/// The error for a character of a value's data that Windows-1252 lacks.
fn self_unrepresentable(name: Option<&str>, key: &str, c: char) -> RegFileError {
    unrepresentable(format!(
        "data of {} in [{key}] contains {c:?} (U+{:04X}), which REGEDIT4 (Windows-1252) cannot hold",
        describe(name),
        u32::from(c)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str) -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    fn write(format: RegFormat, f: impl FnOnce(&mut RegWriter<Vec<u8>>)) -> Vec<u8> {
        let mut w = RegWriter::new(Vec::new(), format).unwrap();
        f(&mut w);
        w.finish().unwrap()
    }

    #[test]
    fn small_regedit5_file_exact_bytes() {
        let bytes = write(RegFormat::Regedit5, |w| {
            w.key("HKEY_LOCAL_MACHINE\\SOFTWARE\\A").unwrap();
            w.value(None, &ValueData::Sz("x".into())).unwrap();
            w.value(Some("n"), &ValueData::Dword(0x1a)).unwrap();
            w.delete_value(Some("old")).unwrap();
            w.delete_key("HKEY_LOCAL_MACHINE\\SOFTWARE\\B").unwrap();
        });
        let expected = "Windows Registry Editor Version 5.00\r\n\r\n\
            [HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n\
            @=\"x\"\r\n\
            \"n\"=dword:0000001a\r\n\
            \"old\"=-\r\n\
            \r\n\
            [-HKEY_LOCAL_MACHINE\\SOFTWARE\\B]\r\n\
            \r\n";
        assert_eq!(&bytes[..4], &[0xFF, 0xFE, b'W', 0]);
        assert_eq!(bytes, utf16(expected));
    }

    #[test]
    fn empty_file_is_header_and_blank_line() {
        assert_eq!(write(RegFormat::Regedit4, |_| {}), b"REGEDIT4\r\n\r\n");
    }

    #[test]
    fn small_regedit4_file_exact_bytes() {
        let bytes = write(RegFormat::Regedit4, |w| {
            w.key("HKEY_CURRENT_USER\\Café").unwrap();
            w.value(Some("€"), &ValueData::Sz("naïve".into())).unwrap();
            w.value(Some("e"), &ValueData::ExpandSz("%é%".into()))
                .unwrap();
            w.value(Some("m"), &ValueData::MultiSz(vec!["a".into(), "é".into()]))
                .unwrap();
            w.value(Some("q"), &ValueData::Qword(1)).unwrap();
            w.key("HKEY_CURRENT_USER\\X").unwrap();
        });
        let expected: &[u8] = b"REGEDIT4\r\n\r\n\
            [HKEY_CURRENT_USER\\Caf\xe9]\r\n\
            \"\x80\"=\"na\xefve\"\r\n\
            \"e\"=hex(2):25,e9,25,00\r\n\
            \"m\"=hex(7):61,00,e9,00,00\r\n\
            \"q\"=hex(b):01,00,00,00,00,00,00,00\r\n\
            \r\n\
            [HKEY_CURRENT_USER\\X]\r\n\
            \r\n";
        assert_eq!(bytes, expected);
    }

    #[test]
    fn long_hex_wraps_like_regedit() {
        let data: Vec<u8> = (0..50).collect();
        let bytes = write(RegFormat::Regedit4, |w| {
            w.key("K").unwrap();
            w.value(Some("a"), &ValueData::Binary(data)).unwrap();
            w.value(Some("e"), &ValueData::Binary(vec![])).unwrap();
        });
        // `"a"=hex:` is 8 characters; each byte but the last adds 3, and the
        // line breaks once the count reaches 77: after 23 bytes on the first
        // line (8 + 69), then after 25 bytes on each later one (2 + 75).
        let expected = "REGEDIT4\r\n\r\n[K]\r\n\
            \"a\"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,\\\r\n\
            \x20 17,18,19,1a,1b,1c,1d,1e,1f,20,21,22,23,24,25,26,27,28,29,2a,2b,2c,2d,2e,2f,\\\r\n\
            \x20 30,31\r\n\
            \"e\"=hex:\r\n\
            \r\n";
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        let first = expected.lines().nth(3).unwrap();
        assert_eq!(first.len(), 78); // 77 characters plus the backslash
    }

    #[test]
    fn wrapping_counts_the_escaped_name() {
        let mut text = String::from("@=hex:");
        let mut len = text.len();
        push_hex_bytes(&mut text, &[0xab; 30], &mut len);
        // 6 + 3 * 24 = 78 >= 77 after the 24th byte; 2 + 3 * 5 after the rest.
        let expected = format!(
            "@=hex:{}\\\r\n  {}",
            "ab,".repeat(24),
            "ab,".repeat(5) + "ab"
        );
        assert_eq!(text, expected);
        assert_eq!(len, 2 + 3 * 5);
    }

    #[test]
    fn escaping_names_and_strings() {
        let bytes = write(RegFormat::Regedit4, |w| {
            w.key("K").unwrap();
            let data = ValueData::Sz("C:\\dir \"q\"".into());
            w.value(Some("a\"b\\c\nd"), &data).unwrap();
            w.value(Some(""), &ValueData::Sz(String::new())).unwrap();
        });
        let expected = "REGEDIT4\r\n\r\n[K]\r\n\
            \"a\\\"b\\\\c\\nd\"=\"C:\\\\dir \\\"q\\\"\"\r\n\
            @=\"\"\r\n\r\n";
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn multiline_sz_falls_back_to_hex1() {
        let data = ValueData::Sz("a\r\nb".into());
        let five = write(RegFormat::Regedit5, |w| {
            w.key("K").unwrap();
            w.value(Some("s"), &data).unwrap();
        });
        let expected = "Windows Registry Editor Version 5.00\r\n\r\n[K]\r\n\
            \"s\"=hex(1):61,00,0d,00,0a,00,62,00,00,00\r\n\r\n";
        assert_eq!(five, utf16(expected));
        let four = write(RegFormat::Regedit4, |w| {
            w.key("K").unwrap();
            w.value(Some("s"), &data).unwrap();
        });
        assert_eq!(
            four,
            b"REGEDIT4\r\n\r\n[K]\r\n\"s\"=hex(1):61,0d,0a,62,00\r\n\r\n"
        );
    }

    #[test]
    fn regedit4_refuses_unrepresentable_characters() {
        let mut w = RegWriter::new(Vec::new(), RegFormat::Regedit4).unwrap();
        w.key("K").unwrap();
        let e = w
            .value(Some("snow"), &ValueData::Sz("☃".into()))
            .unwrap_err();
        assert!(
            matches!(&e.kind, RegErrorKind::Unrepresentable(m) if m.contains("\"snow\"") && m.contains("[K]") && m.contains("U+2603")),
            "{e}"
        );
        let e = w.value(
            Some("m"),
            &ValueData::MultiSz(vec!["ok".into(), "😀".into()]),
        );
        assert!(
            matches!(e.unwrap_err().kind, RegErrorKind::Unrepresentable(m) if m.contains("\"m\""))
        );
        let e = w.value(Some("Ω"), &ValueData::Dword(1)).unwrap_err();
        assert!(matches!(e.kind, RegErrorKind::Unrepresentable(m) if m.contains("\"Ω\"")));
        let e = w.key("HKEY_CURRENT_USER\\Ω").unwrap_err();
        assert!(matches!(e.kind, RegErrorKind::Unrepresentable(m) if m.contains("Ω")));
        // Nothing partial was written for the refused items.
        let out = w.finish().unwrap();
        assert_eq!(out, b"REGEDIT4\r\n\r\n[K]\r\n\r\n");
    }

    #[test]
    fn refuses_values_outside_blocks_and_invalid_data() {
        let mut w = RegWriter::new(Vec::new(), RegFormat::Regedit5).unwrap();
        assert!(w.value(None, &ValueData::Dword(1)).is_err());
        w.delete_key("K").unwrap();
        assert!(w.delete_value(None).is_err());
        w.key("K").unwrap();
        let e = w
            .value(None, &ValueData::MultiSz(vec![String::new()]))
            .unwrap_err();
        assert!(matches!(e.kind, RegErrorKind::InvalidValue(_)));
        assert!(matches!(
            w.key("-K").unwrap_err().kind,
            RegErrorKind::Unrepresentable(_)
        ));
        assert!(matches!(
            w.key("a\nb").unwrap_err().kind,
            RegErrorKind::Unrepresentable(_)
        ));
        assert!(matches!(
            w.key("").unwrap_err().kind,
            RegErrorKind::Unrepresentable(_)
        ));
    }
}
