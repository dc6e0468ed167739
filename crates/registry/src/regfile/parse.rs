//! Turning one physical line (plus `hex` continuation lines) into a
//! [`RegItem`].
//!
//! All syntax characters are ASCII, so the parser scans bytes and only slices
//! the line at ASCII positions. Columns are counted in characters, and only
//! when an error is reported.

use super::decode::decode_8bit;
use super::{RegErrorKind, RegFileError, RegFormat, RegItem};
use crate::value::{ValueData, ValueKind};

/// The result of parsing one line.
pub(crate) enum Parsed {
    /// A blank or comment line.
    Skip,
    /// A complete item.
    Item(RegItem),
    /// A `hex` value; [`HexValue::wants_more`] says whether continuation
    /// lines follow.
    Hex(HexValue),
}

/// A `hex:` / `hex(N):` value being assembled across continuation lines.
pub(crate) struct HexValue {
    name: Option<String>,
    kind: ValueKind,
    bytes: Vec<u8>,
    /// Where the value line and its data start, for decoding errors.
    line: u64,
    column: u64,
    /// Where the last continuation `\` was, while one is pending.
    pending: Option<(u64, u64)>,
}

/// The 1-based character column of byte offset `pos` in `line`.
fn column(line: &str, pos: usize) -> u64 {
    line.get(..pos).map_or(0, |s| s.chars().count()) as u64 + 1
}

/// An error at byte offset `pos` of `line`.
fn err(kind: RegErrorKind, line: &str, no: u64, pos: usize) -> RegFileError {
    RegFileError::new(kind, no, column(line, pos))
}

/// A syntax error at byte offset `pos` of `line`.
fn syntax(msg: impl Into<String>, line: &str, no: u64, pos: usize) -> RegFileError {
    err(RegErrorKind::Syntax(msg.into()), line, no, pos)
}

/// The first offset at or after `pos` that is not a space or tab.
fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while matches!(b.get(pos), Some(b' ' | b'\t')) {
        pos += 1;
    }
    pos
}

/// Checks that only whitespace or a `;` comment follows `pos`.
fn expect_end(line: &str, no: u64, pos: usize) -> Result<(), RegFileError> {
    let pos = skip_ws(line.as_bytes(), pos);
    match line.as_bytes().get(pos) {
        None | Some(b';') => Ok(()),
        Some(_) if line[pos..].trim().is_empty() => Ok(()),
        Some(_) => Err(syntax("unexpected text after the value", line, no, pos)),
    }
}

/// Whether `line[pos..]` starts with the ASCII `prefix`, ignoring case.
fn starts_with_ci(line: &str, pos: usize, prefix: &str) -> bool {
    line.as_bytes()
        .get(pos..pos + prefix.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Parses one physical line read from a file of `format`.
///
/// An unterminated string is reported as `Truncated`; the reader turns that
/// into `Syntax` unless the input really ends there.
pub(crate) fn parse_line(line: &str, no: u64, format: RegFormat) -> Result<Parsed, RegFileError> {
    let start = line.len() - line.trim_start().len();
    match line.as_bytes().get(start) {
        None | Some(b';') => Ok(Parsed::Skip),
        Some(b'[') => parse_key(line, no, start).map(Parsed::Item),
        Some(b'"' | b'@') => parse_value(line, no, start, format),
        Some(_) => Err(syntax(
            "expected '[', '\"' or '@' at the start of a line",
            line,
            no,
            start,
        )),
    }
}

/// Parses `[PATH]` or `[-PATH]`; `start` is the offset of `[`.
fn parse_key(line: &str, no: u64, start: usize) -> Result<RegItem, RegFileError> {
    let delete = line.as_bytes().get(start + 1) == Some(&b'-');
    let path_start = start + if delete { 2 } else { 1 };
    let close = match line.rfind(']') {
        Some(close) if close >= path_start => close,
        _ => {
            return Err(syntax(
                "missing ']' after the key path",
                line,
                no,
                line.len(),
            ))
        }
    };
    let after = close + 1;
    let trailing = line[after..].trim_start();
    if !trailing.is_empty() {
        let pos = line.len() - trailing.len();
        return Err(syntax("unexpected text after ']'", line, no, pos));
    }
    let path = &line[path_start..close];
    if path.is_empty() {
        return Err(syntax("empty key path", line, no, path_start));
    }
    let path = path.to_owned();
    Ok(if delete {
        RegItem::DeleteKey { path, line: no }
    } else {
        RegItem::Key { path, line: no }
    })
}

/// Parses a quoted string whose opening `"` is at `open`; returns the text
/// and the offset after the closing quote.
fn parse_quoted(line: &str, no: u64, open: usize) -> Result<(String, usize), RegFileError> {
    let b = line.as_bytes();
    let mut text = String::new();
    let mut run = open + 1;
    let mut i = run;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                text.push_str(&line[run..i]);
                return Ok((text, i + 1));
            }
            b'\\' => {
                text.push_str(&line[run..i]);
                let unescaped = match b.get(i + 1) {
                    Some(b'\\') => '\\',
                    Some(b'"') => '"',
                    Some(b'n') => '\n',
                    Some(b'r') => '\r',
                    None => break,
                    Some(_) => {
                        let next = line[i + 1..].chars().next().unwrap_or(' ');
                        let msg = format!("invalid escape sequence `\\{next}`");
                        return Err(syntax(msg, line, no, i));
                    }
                };
                text.push(unescaped);
                i += 2;
                run = i;
            }
            _ => i += 1,
        }
    }
    let kind = RegErrorKind::Truncated("unterminated string".into());
    Err(err(kind, line, no, open))
}

/// Parses a value line; `start` is the offset of `"` or `@`.
fn parse_value(
    line: &str,
    no: u64,
    start: usize,
    format: RegFormat,
) -> Result<Parsed, RegFileError> {
    let b = line.as_bytes();
    let (name, after_name) = if b[start] == b'@' {
        (None, start + 1)
    } else {
        let (name, end) = parse_quoted(line, no, start)?;
        ((!name.is_empty()).then_some(name), end)
    };
    let eq = skip_ws(b, after_name);
    if b.get(eq) != Some(&b'=') {
        return Err(syntax("expected '=' after value name", line, no, eq));
    }
    let pos = skip_ws(b, eq + 1);
    match b.get(pos) {
        Some(b'"') => {
            let (text, end) = parse_quoted(line, no, pos)?;
            expect_end(line, no, end)?;
            Ok(Parsed::Item(RegItem::Value {
                name,
                data: ValueData::Sz(text),
                line: no,
            }))
        }
        Some(b'-') => {
            expect_end(line, no, pos + 1)?;
            Ok(Parsed::Item(RegItem::DeleteValue { name, line: no }))
        }
        _ if starts_with_ci(line, pos, "dword:") => {
            let n = parse_dword(line, no, pos + 6)?;
            Ok(Parsed::Item(RegItem::Value {
                name,
                data: ValueData::Dword(n),
                line: no,
            }))
        }
        _ if starts_with_ci(line, pos, "hex") => {
            let (kind, data_start) = parse_hex_type(line, no, pos)?;
            let mut hex = HexValue {
                name,
                kind,
                bytes: Vec::new(),
                line: no,
                column: column(line, pos),
                pending: None,
            };
            hex.feed_from(line, no, data_start)?;
            if hex.wants_more() {
                Ok(Parsed::Hex(hex))
            } else {
                hex.finish(format).map(Parsed::Item)
            }
        }
        _ => {
            let rest = &line[pos..];
            let token = rest.split([':', ' ', '\t']).next().unwrap_or(rest);
            let msg = format!("unknown value type `{token}`");
            Err(syntax(msg, line, no, pos))
        }
    }
}

/// Parses the digits of `dword:` starting at `pos`.
fn parse_dword(line: &str, no: u64, pos: usize) -> Result<u32, RegFileError> {
    let b = line.as_bytes();
    let mut end = pos;
    while b.get(end).is_some_and(u8::is_ascii_hexdigit) {
        end += 1;
    }
    let digits = &line[pos..end];
    let next = skip_ws(b, end);
    let at_end = matches!(b.get(next), None | Some(b';'));
    if digits.is_empty() || (!at_end && next == end) {
        let rest = &line[pos..];
        let token = rest.split([' ', '\t', ';']).next().unwrap_or(rest);
        let msg = if token.is_empty() {
            "expected 1 to 8 hex digits after `dword:`".to_owned()
        } else {
            format!("`{token}` is not a hex number")
        };
        return Err(err(RegErrorKind::BadHex(msg), line, no, pos));
    }
    if digits.len() > 8 {
        let msg = format!("dword `{digits}` is out of range (more than 8 hex digits)");
        return Err(err(RegErrorKind::InvalidValue(msg), line, no, pos));
    }
    expect_end(line, no, end)?;
    u32::from_str_radix(digits, 16).map_err(|e| {
        let msg = format!("`{digits}` is not a hex number: {e}");
        err(RegErrorKind::BadHex(msg), line, no, pos)
    })
}

/// Parses `hex:` or `hex(N):` at `pos`; returns the kind and the offset
/// after the `:`.
fn parse_hex_type(line: &str, no: u64, pos: usize) -> Result<(ValueKind, usize), RegFileError> {
    let b = line.as_bytes();
    if b.get(pos + 3) == Some(&b':') {
        return Ok((ValueKind::Binary, pos + 4));
    }
    let malformed = || syntax("expected `hex:` or `hex(N):`", line, no, pos);
    if b.get(pos + 3) != Some(&b'(') {
        return Err(malformed());
    }
    let digits_start = pos + 4;
    let close = line[digits_start..]
        .find(')')
        .map(|i| digits_start + i)
        .ok_or_else(malformed)?;
    let digits = &line[digits_start..close];
    let valid = !digits.is_empty() && digits.len() <= 8;
    if !valid || !digits.bytes().all(|c| c.is_ascii_hexdigit()) || b.get(close + 1) != Some(&b':') {
        return Err(malformed());
    }
    let code = u32::from_str_radix(digits, 16).map_err(|_| malformed())?;
    let kind = match code {
        1 => ValueKind::Sz,
        2 => ValueKind::ExpandSz,
        3 => ValueKind::Binary,
        4 => ValueKind::Dword,
        7 => ValueKind::MultiSz,
        0xb => ValueKind::Qword,
        // REG_NONE, REG_LINK, REG_RESOURCE_LIST, …: kept as raw bytes.
        other => ValueKind::Other(other),
    };
    Ok((kind, close + 2))
}

impl HexValue {
    /// Whether the last line ended with a continuation `\`.
    pub(crate) fn wants_more(&self) -> bool {
        self.pending.is_some()
    }

    /// The error for input ending while a continuation is pending.
    pub(crate) fn truncated(&self) -> RegFileError {
        let (line, column) = self.pending.unwrap_or((self.line, self.column));
        let msg = "the file ends after a `\\` line continuation".into();
        RegFileError::new(RegErrorKind::Truncated(msg), line, column)
    }

    /// Feeds a continuation line; blank and comment lines are skipped.
    pub(crate) fn feed(&mut self, line: &str, no: u64) -> Result<(), RegFileError> {
        let start = line.len() - line.trim_start().len();
        match line.as_bytes().get(start) {
            None | Some(b';') => Ok(()),
            Some(_) => self.feed_from(line, no, start),
        }
    }

    /// Parses comma-separated hex bytes from `line[pos..]`.
    fn feed_from(&mut self, line: &str, no: u64, mut pos: usize) -> Result<(), RegFileError> {
        let b = line.as_bytes();
        self.pending = None;
        loop {
            pos = skip_ws(b, pos);
            match b.get(pos) {
                None | Some(b';') => return Ok(()),
                Some(b'\\') => return self.continuation(line, no, pos),
                Some(_) => {}
            }
            let start = pos;
            while b
                .get(pos)
                .is_some_and(|c| !matches!(c, b',' | b' ' | b'\t' | b'\\' | b';'))
            {
                pos += 1;
            }
            let token = &line[start..pos];
            let byte = match token.len() {
                1 | 2 if token.bytes().all(|c| c.is_ascii_hexdigit()) => {
                    u8::from_str_radix(token, 16).ok()
                }
                _ => None,
            };
            let Some(byte) = byte else {
                let msg = if token.is_empty() {
                    "expected a hex byte".to_owned()
                } else {
                    format!("`{token}` is not a hex byte")
                };
                return Err(err(RegErrorKind::BadHex(msg), line, no, start));
            };
            self.bytes.push(byte);
            pos = skip_ws(b, pos);
            match b.get(pos) {
                None | Some(b';') => return Ok(()),
                Some(b',') => pos += 1,
                Some(b'\\') => return self.continuation(line, no, pos),
                Some(_) => return Err(syntax("expected ',' between hex bytes", line, no, pos)),
            }
        }
    }

    /// Records a `\` at `pos`, which must end the line.
    fn continuation(&mut self, line: &str, no: u64, pos: usize) -> Result<(), RegFileError> {
        let rest = &line[pos + 1..];
        if !rest.trim().is_empty() {
            let at = line.len() - rest.trim_start().len();
            return Err(syntax("unexpected text after `\\`", line, no, at));
        }
        self.pending = Some((no, column(line, pos)));
        Ok(())
    }

    /// Decodes the collected bytes into a validated value.
    pub(crate) fn finish(self, format: RegFormat) -> Result<RegItem, RegFileError> {
        let invalid = |msg: String| {
            RegFileError::new(RegErrorKind::InvalidValue(msg), self.line, self.column)
        };
        let kind = self.kind;
        let too_long = |max: usize| {
            invalid(format!(
                "{kind} data has {} bytes; at most {max} are allowed",
                self.bytes.len()
            ))
        };
        let data = match kind {
            ValueKind::Dword if self.bytes.len() > 4 => return Err(too_long(4)),
            ValueKind::Qword if self.bytes.len() > 8 => return Err(too_long(8)),
            ValueKind::Sz | ValueKind::ExpandSz | ValueKind::MultiSz
                if format == RegFormat::Regedit4 =>
            {
                decode_ansi(kind, &self.bytes)
            }
            _ => ValueData::from_windows_bytes(kind, &self.bytes)
                .ok_or_else(|| invalid(format!("{kind} data is not valid UTF-16LE")))?,
        };
        data.validate().map_err(|e| invalid(e.to_string()))?;
        Ok(RegItem::Value {
            name: self.name,
            data,
            line: self.line,
        })
    }
}

/// Decodes a REGEDIT4 string payload: 8-bit strings, each ended by one NUL.
fn decode_ansi(kind: ValueKind, bytes: &[u8]) -> ValueData {
    let mut parts = bytes.split(|&b| b == 0);
    let mut one = |part: &[u8]| {
        let mut s = String::new();
        decode_8bit(part, &mut s);
        s
    };
    match kind {
        ValueKind::MultiSz => ValueData::MultiSz(
            parts
                .take_while(|part| !part.is_empty())
                .map(&mut one)
                .collect(),
        ),
        ValueKind::ExpandSz => ValueData::ExpandSz(one(parts.next().unwrap_or_default())),
        _ => ValueData::Sz(one(parts.next().unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::RegReader;
    use super::*;

    const H5: &str = "Windows Registry Editor Version 5.00\r\n\r\n";

    fn utf16(text: &str) -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<RegItem>, RegFileError> {
        RegReader::new(bytes)?.collect()
    }

    fn read5(body: &str) -> Result<Vec<RegItem>, RegFileError> {
        read_all(&utf16(&format!("{H5}{body}")))
    }

    fn value(name: Option<&str>, data: ValueData, line: u64) -> RegItem {
        RegItem::Value {
            name: name.map(str::to_owned),
            data,
            line,
        }
    }

    fn key(path: &str, line: u64) -> RegItem {
        RegItem::Key {
            path: path.into(),
            line,
        }
    }

    fn error5(body: &str) -> RegFileError {
        match read5(body) {
            Ok(items) => panic!("expected an error, got {items:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn every_value_type() {
        let body = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC]\r\n\
            @=\"default\"\r\n\
            \"Sz\"=\"a \\\"q\\\" \\\\ b\"\r\n\
            \"Dw\"=dword:DEADbeef\r\n\
            \"Short\"=dword:1\r\n\
            \"Bin\"=hex:00,ff,7\r\n\
            \"Empty\"=hex:\r\n\
            \"Exp\"=hex(2):25,00,41,00,25,00,00,00\r\n\
            \"Multi\"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00\r\n\
            \"Q\"=hex(b):01,02,03,04,05,06,07,08\r\n\
            \"HexSz\"=hex(1):68,00,0a,00,00,00\r\n\
            \"Bin3\"=hex(3):01\r\n\
            \"Dw4\"=hex(4):01,02\r\n";
        let items = read5(body).unwrap();
        let expected = vec![
            key(
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC",
                3,
            ),
            value(None, ValueData::Sz("default".into()), 4),
            value(Some("Sz"), ValueData::Sz("a \"q\" \\ b".into()), 5),
            value(Some("Dw"), ValueData::Dword(0xdead_beef), 6),
            value(Some("Short"), ValueData::Dword(1), 7),
            value(Some("Bin"), ValueData::Binary(vec![0, 0xff, 7]), 8),
            value(Some("Empty"), ValueData::Binary(vec![]), 9),
            value(Some("Exp"), ValueData::ExpandSz("%A%".into()), 10),
            value(
                Some("Multi"),
                ValueData::MultiSz(vec!["a".into(), "bc".into()]),
                11,
            ),
            value(Some("Q"), ValueData::Qword(0x0807_0605_0403_0201), 12),
            value(Some("HexSz"), ValueData::Sz("h\n".into()), 13),
            value(Some("Bin3"), ValueData::Binary(vec![1]), 14),
            // A short number keeps its bytes (regedit writes it back so).
            value(
                Some("Dw4"),
                ValueData::Raw {
                    kind: 4,
                    bytes: vec![1, 2],
                },
                15,
            ),
        ];
        assert_eq!(items, expected);
    }

    #[test]
    fn deletions_comments_and_spacing() {
        let body = "; a comment\r\n\
            [-HKEY_CURRENT_USER\\Gone]\r\n\
            \r\n\
            \x20 [HKEY_CURRENT_USER\\Here] \t\r\n\
            \x20  ; indented comment\r\n\
            \"Old\"=-\r\n\
            @ = - ; trailing comment\r\n\
            \"n\\nr\\r\"  =  \"v\" ; comment\r\n\
            \"\"=\"empty name is the default\"\r\n";
        let items = read5(body).unwrap();
        assert_eq!(
            items,
            vec![
                RegItem::DeleteKey {
                    path: "HKEY_CURRENT_USER\\Gone".into(),
                    line: 4
                },
                key("HKEY_CURRENT_USER\\Here", 6),
                RegItem::DeleteValue {
                    name: Some("Old".into()),
                    line: 8
                },
                RegItem::DeleteValue {
                    name: None,
                    line: 9
                },
                value(Some("n\nr\r"), ValueData::Sz("v".into()), 10),
                value(None, ValueData::Sz("empty name is the default".into()), 11),
            ]
        );
    }

    #[test]
    fn key_path_ends_at_last_bracket() {
        let items = read5("[HKEY_USERS\\a]b]\r\n").unwrap();
        assert_eq!(items, vec![key("HKEY_USERS\\a]b", 3)]);
    }

    #[test]
    fn continuations_with_comments_and_blank_lines() {
        let body = "[K]\n\"Bin\"=hex:01,02,\\\n  03,04\\\n; comment inside\n\n    05,\\\n  06\n@=dword:2\n";
        let items = read5(body).unwrap();
        assert_eq!(
            items,
            vec![
                key("K", 3),
                value(Some("Bin"), ValueData::Binary(vec![1, 2, 3, 4, 5, 6]), 4),
                value(None, ValueData::Dword(2), 10),
            ]
        );
    }

    #[test]
    fn lf_and_crlf_and_missing_final_newline() {
        let lf = read5("[K]\n\"a\"=\"b\"\n").unwrap();
        let crlf = read5("[K]\r\n\"a\"=\"b\"\r\n").unwrap();
        let bare = read5("[K]\r\n\"a\"=\"b\"").unwrap();
        assert_eq!(lf, crlf);
        assert_eq!(lf, bare);
    }

    #[test]
    fn utf8_bom_and_header_in_any_encoding() {
        let text = "\u{FEFF}Windows Registry Editor Version 5.00\r\n\r\n[K]\r\n\"é\"=\"😀\"\r\n";
        let items = read_all(text.as_bytes()).unwrap();
        assert_eq!(items[1], value(Some("é"), ValueData::Sz("😀".into()), 4));
        let items = read_all(&utf16("REGEDIT4\r\n\r\n[K]\r\n@=hex(2):41,42,00\r\n")).unwrap();
        assert_eq!(items[1], value(None, ValueData::ExpandSz("AB".into()), 4));
    }

    #[test]
    fn windows_1252_regedit4() {
        let mut bytes =
            b"REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\Caf\xe9]\r\n\"\x80\"=\"na\xefve\"\r\n".to_vec();
        bytes.extend_from_slice(b"\"M\"=hex(7):e9,00,41,42,00,00\r\n\"E\"=hex(2):e9,00\r\n");
        let mut reader = RegReader::new(&bytes[..]).unwrap();
        assert_eq!(reader.format(), RegFormat::Regedit4);
        let items: Vec<_> = reader.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(
            items,
            vec![
                key("HKEY_CURRENT_USER\\Café", 3),
                value(Some("€"), ValueData::Sz("naïve".into()), 4),
                value(
                    Some("M"),
                    ValueData::MultiSz(vec!["é".into(), "AB".into()]),
                    5
                ),
                value(Some("E"), ValueData::ExpandSz("é".into()), 6),
            ]
        );
    }

    fn assert_error(e: &RegFileError, line: u64, column: u64, kind: fn(&RegErrorKind) -> bool) {
        assert!(kind(&e.kind), "unexpected kind: {e}");
        assert_eq!((e.line, e.column), (line, column), "{e}");
    }

    #[test]
    fn bad_hex_is_located() {
        let e = error5("[K]\r\n\"b\"=hex:01,zz,03\r\n");
        assert_error(
            &e,
            4,
            12,
            |k| matches!(k, RegErrorKind::BadHex(m) if m.contains("`zz`")),
        );
        assert_eq!(
            e.to_string(),
            "line 4, column 12: bad hex: `zz` is not a hex byte"
        );
        let e = error5("[K]\r\n\"b\"=hex:01,\\\r\n  02,123\r\n");
        assert_error(&e, 5, 6, |k| matches!(k, RegErrorKind::BadHex(_)));
        let e = error5("[K]\r\n\"d\"=dword:12x4\r\n");
        assert_error(&e, 4, 11, |k| matches!(k, RegErrorKind::BadHex(_)));
        let e = error5("[K]\r\n\"d\"=dword:123456789\r\n");
        assert_error(&e, 4, 11, |k| matches!(k, RegErrorKind::InvalidValue(_)));
        let e = error5("[K]\r\n\"d\"=hex(4):1,2,3,4,5\r\n");
        assert_error(&e, 4, 5, |k| matches!(k, RegErrorKind::InvalidValue(_)));
    }

    #[test]
    fn missing_header() {
        let e = read_all(b"\r\n  \r\nREGEDIT5\r\n[K]\r\n").unwrap_err();
        assert_error(&e, 3, 1, |k| matches!(k, RegErrorKind::MissingHeader));
        let e = read_all(b"").unwrap_err();
        assert_error(&e, 0, 0, |k| matches!(k, RegErrorKind::MissingHeader));
        assert!(e.to_string().starts_with("missing header"));
        let e = read_all(&utf16("")).unwrap_err();
        assert!(matches!(e.kind, RegErrorKind::MissingHeader));
        assert!(read_all(b"REGEDIT4  \r\n").unwrap().is_empty());
    }

    #[test]
    fn wrong_encodings() {
        let e = read_all(b"\xFE\xFF\x00W\x00i").unwrap_err();
        assert_error(
            &e,
            1,
            1,
            |k| matches!(k, RegErrorKind::WrongEncoding(m) if m.contains("big-endian")),
        );
        let e = read_all(b"W\x00i\x00n\x00").unwrap_err();
        assert_error(
            &e,
            1,
            1,
            |k| matches!(k, RegErrorKind::WrongEncoding(m) if m.contains("without a byte-order mark")),
        );
    }

    #[test]
    fn truncated_input() {
        let e = error5("[K]\r\n\"b\"=hex:01,02,\\\r\n  03,\\\r\n");
        assert_error(&e, 5, 6, |k| matches!(k, RegErrorKind::Truncated(_)));
        let e = error5("[K]\r\n\"s\"=\"abc\r\n");
        assert_error(&e, 4, 5, |k| matches!(k, RegErrorKind::Truncated(_)));
        let e = error5("[K]\r\n\"s\"=\"abc\r\n@=\"x\"\r\n");
        assert_error(
            &e,
            4,
            5,
            |k| matches!(k, RegErrorKind::Syntax(m) if m.contains("unterminated")),
        );
        let e = error5("[K]\r\n\"name");
        assert_error(&e, 4, 1, |k| matches!(k, RegErrorKind::Truncated(_)));
        let mut odd = utf16(&format!("{H5}[K]\r\n"));
        odd.push(0x41);
        let e = read_all(&odd).unwrap_err();
        assert_error(&e, 4, 1, |k| matches!(k, RegErrorKind::Truncated(_)));
    }

    #[test]
    fn values_outside_a_key() {
        let e = error5("\"a\"=\"b\"\r\n");
        assert_error(
            &e,
            3,
            1,
            |k| matches!(k, RegErrorKind::Syntax(m) if m.contains("before any")),
        );
        let e = error5("[-K]\r\n@=hex:01,\\\r\n 02\r\n");
        assert_error(
            &e,
            4,
            1,
            |k| matches!(k, RegErrorKind::Syntax(m) if m.contains("[-key]")),
        );
    }

    #[test]
    fn unsupported_and_unknown_types() {
        // Types Transit does not model are kept as raw typed bytes, as
        // real regedit exports hold them (REG_NONE, REG_RESOURCE_LIST, …).
        let items = read_all(&utf16(
            "Windows Registry Editor Version 5.00\r\n\r\n[K]\r\n\"n\"=hex(0):00\r\n\"r\"=hex(A):01,02\r\n\"b\"=hex(b):01,02,03\r\n",
        ))
        .unwrap();
        let data: Vec<ValueData> = items
            .into_iter()
            .filter_map(|i| match i {
                RegItem::Value { data, .. } => Some(data),
                _ => None,
            })
            .collect();
        assert_eq!(
            data,
            vec![
                ValueData::Raw {
                    kind: 0,
                    bytes: vec![0]
                },
                ValueData::Raw {
                    kind: 10,
                    bytes: vec![1, 2]
                },
                ValueData::Raw {
                    kind: 11,
                    bytes: vec![1, 2, 3]
                },
            ]
        );
        let e = error5("[K]\r\n\"n\"=qword:1\r\n");
        assert_error(
            &e,
            4,
            5,
            |k| matches!(k, RegErrorKind::Syntax(m) if m.contains("unknown value type `qword`")),
        );
    }

    #[test]
    fn syntax_errors() {
        let cases: &[(&str, u64, u64, &str)] = &[
            ("[K\r\n", 3, 3, "missing ']'"),
            ("[]\r\n", 3, 2, "empty key path"),
            ("[-]\r\n", 3, 3, "empty key path"),
            ("[K] x\r\n", 3, 5, "after ']'"),
            ("[K]\r\n\"a\" \"b\"\r\n", 4, 5, "expected '='"),
            ("[K]\r\n\"a\\tb\"=\"c\"\r\n", 4, 3, "`\\t`"),
            ("[K]\r\n\"a\"=\"\\0\"\r\n", 4, 6, "`\\0`"),
            ("[K]\r\n\"a\"=\"b\" c\r\n", 4, 9, "unexpected text"),
            ("[K]\r\n\"a\"=hex:01 02\r\n", 4, 12, "expected ','"),
            ("[K]\r\n\"a\"=hex:01,\\ x\r\n", 4, 14, "after `\\`"),
            ("[K]\r\nstray\r\n", 4, 1, "at the start"),
        ];
        for &(body, line, col, needle) in cases {
            let e = error5(body);
            assert_error(&e, line, col, |k| matches!(k, RegErrorKind::Syntax(_)));
            assert!(e.to_string().contains(needle), "{body:?}: {e}");
        }
    }

    #[test]
    fn bad_utf16_payload_is_invalid() {
        let e = error5("[K]\r\n\"s\"=hex(1):41,00,42\r\n");
        assert_error(&e, 4, 5, |k| matches!(k, RegErrorKind::InvalidValue(_)));
        let e = error5("[K]\r\n\"s\"=hex(7):00,d8,00,00\r\n");
        assert!(matches!(e.kind, RegErrorKind::InvalidValue(_)));
    }

    #[test]
    fn iteration_stops_after_an_error() {
        let data = utf16(&format!("{H5}[K]\r\n\"a\"=bogus\r\n\"b\"=\"ok\"\r\n"));
        let mut reader = RegReader::new(&data[..]).unwrap();
        assert!(matches!(reader.next(), Some(Ok(RegItem::Key { .. }))));
        assert!(matches!(reader.next(), Some(Err(_))));
        assert!(reader.next().is_none());
    }

    #[test]
    fn column_counts_characters() {
        let e = error5("[K]\r\n\"😀é\"=hex:zz\r\n");
        assert_error(&e, 4, 10, |k| matches!(k, RegErrorKind::BadHex(_)));
    }
}
