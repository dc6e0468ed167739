//! Encoding detection and the streaming physical-line reader.
//!
//! The reader decodes straight from its buffer into a caller-owned `String`,
//! so reading a line allocates nothing once the buffers have grown.

use std::io::{BufRead, BufReader, Chain, Cursor, ErrorKind, Read};

use encoding_rs::WINDOWS_1252;

use super::{RegErrorKind, RegFileError};

/// Size of the internal read buffer.
const BUFFER_SIZE: usize = 256 * 1024;

/// The text encoding of the input, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEncoding {
    /// `FF FE` byte-order mark.
    Utf16Le,
    /// `EF BB BF` byte-order mark: every line must be UTF-8.
    Utf8,
    /// No byte-order mark: each line is UTF-8 if valid, else Windows-1252.
    Ansi,
}

/// Decodes 8-bit text as regedit's ANSI reading does here: UTF-8 when the
/// bytes are valid UTF-8, Windows-1252 otherwise.
pub(crate) fn decode_8bit(bytes: &[u8], out: &mut String) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&WINDOWS_1252.decode_without_bom_handling(bytes).0),
    }
}

/// Reads decoded physical lines, without their terminators, one at a time.
pub(crate) struct LineReader<R: Read> {
    inner: BufReader<Chain<Cursor<Vec<u8>>, R>>,
    encoding: TextEncoding,
    /// Raw bytes of the current 8-bit line.
    bytes: Vec<u8>,
    /// The first byte of a UTF-16 unit split across buffer refills.
    carry: Option<u8>,
    /// Number of lines returned so far.
    line_no: u64,
    /// Whether the last line returned ended with a line end.
    terminated: bool,
    /// The text of the last line when it did not.
    unterminated: String,
}

impl<R: Read> LineReader<R> {
    /// Sniffs the byte-order mark and prepares to read lines after it.
    pub(crate) fn new(mut reader: R) -> Result<Self, RegFileError> {
        let mut head = [0u8; 4];
        let mut len = 0;
        while len < head.len() {
            match reader.read(&mut head[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        let head = &head[..len];
        let wrong = |msg: &str| RegFileError::new(RegErrorKind::WrongEncoding(msg.into()), 1, 1);
        let (encoding, skip) = if head.starts_with(&[0xFF, 0xFE]) {
            (TextEncoding::Utf16Le, 2)
        } else if head.starts_with(&[0xFE, 0xFF]) {
            return Err(wrong(
                "UTF-16 big-endian is not supported; save the file as UTF-16LE (\"Unicode\")",
            ));
        } else if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            (TextEncoding::Utf8, 3)
        } else if head.len() >= 2 && head[1] == 0 {
            return Err(wrong(
                "UTF-16 without a byte-order mark is not supported; add the FF FE mark",
            ));
        } else {
            (TextEncoding::Ansi, 0)
        };
        let prefix = Cursor::new(head[skip..].to_vec());
        Ok(LineReader {
            inner: BufReader::with_capacity(BUFFER_SIZE, prefix.chain(reader)),
            encoding,
            bytes: Vec::new(),
            carry: None,
            line_no: 0,
            terminated: true,
            unterminated: String::new(),
        })
    }

    /// Replaces `out` with the next physical line (CRLF or LF stripped) and
    /// returns its 1-based number, or `None` at the end of input.
    pub(crate) fn read_line(&mut self, out: &mut String) -> Result<Option<u64>, RegFileError> {
        out.clear();
        let got = match self.encoding {
            TextEncoding::Utf16Le => self.read_utf16(out)?,
            TextEncoding::Utf8 | TextEncoding::Ansi => self.read_8bit(out)?,
        };
        if !got {
            return Ok(None);
        }
        if out.ends_with('\r') {
            out.pop();
        }
        self.line_no += 1;
        if !self.terminated {
            self.unterminated = out.chars().take(80).collect();
        }
        Ok(Some(self.line_no))
    }

    /// The last line's text when it did not end with a line end.
    pub(crate) fn unterminated_text(&self) -> &str {
        &self.unterminated
    }

    /// Number of lines returned so far.
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Whether the last line returned ended with a line end (regedit ends
    /// every line, the last one too).
    pub(crate) fn last_line_terminated(&self) -> bool {
        self.terminated
    }

    /// Whether all input has been consumed.
    pub(crate) fn is_eof(&mut self) -> Result<bool, RegFileError> {
        if self.carry.is_some() {
            return Ok(false);
        }
        loop {
            match self.inner.fill_buf() {
                Ok(buf) => return Ok(buf.is_empty()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Reads one 8-bit line; `false` at the end of input.
    fn read_8bit(&mut self, out: &mut String) -> Result<bool, RegFileError> {
        self.bytes.clear();
        if self.inner.read_until(b'\n', &mut self.bytes)? == 0 {
            return Ok(false);
        }
        self.terminated = self.bytes.last() == Some(&b'\n');
        if self.terminated {
            self.bytes.pop();
        }
        if self.encoding == TextEncoding::Utf8 {
            match std::str::from_utf8(&self.bytes) {
                Ok(s) => out.push_str(s),
                Err(e) => {
                    let valid = &self.bytes[..e.valid_up_to()];
                    let column = String::from_utf8_lossy(valid).chars().count() as u64 + 1;
                    let msg = "invalid UTF-8 in a file with a UTF-8 byte-order mark".into();
                    let kind = RegErrorKind::WrongEncoding(msg);
                    return Err(RegFileError::new(kind, self.line_no + 1, column));
                }
            }
        } else {
            decode_8bit(&self.bytes, out);
        }
        Ok(true)
    }

    /// Reads one UTF-16LE line straight from the buffer; `false` at the end
    /// of input.
    fn read_utf16(&mut self, out: &mut String) -> Result<bool, RegFileError> {
        let mut any = false;
        let mut high = None;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if buf.is_empty() {
                if self.carry.is_some() {
                    let msg = "odd number of bytes in UTF-16 input".into();
                    return Err(self.error_at(RegErrorKind::Truncated(msg), out));
                }
                if high.is_some() {
                    return Err(self.error_at(unpaired(), out));
                }
                if any {
                    self.terminated = false;
                }
                return Ok(any);
            }
            any = true;
            let mut i = 0;
            let mut end = Ok(false);
            if let Some(first) = self.carry.take() {
                end = push_unit(u16::from_le_bytes([first, buf[0]]), &mut high, out);
                i = 1;
            }
            while end == Ok(false) && i + 1 < buf.len() {
                end = push_unit(u16::from_le_bytes([buf[i], buf[i + 1]]), &mut high, out);
                i += 2;
            }
            if end == Ok(false) && i < buf.len() {
                self.carry = Some(buf[i]);
                i += 1;
            }
            self.inner.consume(i);
            match end {
                Ok(false) => {}
                Ok(true) => {
                    self.terminated = true;
                    return Ok(true);
                }
                Err(()) => return Err(self.error_at(unpaired(), out)),
            }
        }
    }

    /// An error at the end of the partial line `out`.
    fn error_at(&self, kind: RegErrorKind, out: &str) -> RegFileError {
        RegFileError::new(kind, self.line_no + 1, out.chars().count() as u64 + 1)
    }
}

/// The error for a lone UTF-16 surrogate.
fn unpaired() -> RegErrorKind {
    RegErrorKind::InvalidValue("unpaired UTF-16 surrogate".into())
}

/// Appends one UTF-16 unit to `out`; `Ok(true)` when it ends the line.
#[inline]
fn push_unit(unit: u16, high: &mut Option<u16>, out: &mut String) -> Result<bool, ()> {
    if let Some(h) = high.take() {
        if !(0xDC00..0xE000).contains(&unit) {
            return Err(());
        }
        let code = 0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
        out.push(char::from_u32(code).ok_or(())?);
        return Ok(false);
    }
    match unit {
        0x0A => return Ok(true),
        0..=0x7F => out.push(char::from(unit as u8)),
        0xD800..=0xDBFF => *high = Some(unit),
        0xDC00..=0xDFFF => return Err(()),
        _ => out.push(char::from_u32(u32::from(unit)).ok_or(())?),
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Result<Vec<String>, RegFileError> {
        let mut reader = LineReader::new(input)?;
        let mut out = Vec::new();
        let mut line = String::new();
        while let Some(no) = reader.read_line(&mut line)? {
            assert_eq!(no as usize, out.len() + 1);
            out.push(line.clone());
        }
        Ok(out)
    }

    fn utf16(text: &str) -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn utf16_lines_with_crlf_lf_and_surrogates() {
        let got = lines(&utf16("a\r\nb😀c\nlast")).unwrap();
        assert_eq!(got, ["a", "b😀c", "last"]);
    }

    #[test]
    fn utf16_split_across_tiny_reads() {
        /// A reader that returns one byte per call.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match (self.0.split_first(), buf.first_mut()) {
                    (Some((b, rest)), Some(slot)) => {
                        *slot = *b;
                        self.0 = rest;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        let data = utf16("xé😀\r\ny\r\n");
        let mut reader = LineReader::new(OneByte(&data)).unwrap();
        let mut line = String::new();
        assert_eq!(reader.read_line(&mut line).unwrap(), Some(1));
        assert_eq!(line, "xé😀");
        assert_eq!(reader.read_line(&mut line).unwrap(), Some(2));
        assert_eq!(line, "y");
        assert_eq!(reader.read_line(&mut line).unwrap(), None);
    }

    #[test]
    fn odd_trailing_byte_is_truncated() {
        let mut data = utf16("ab\r\ncd");
        data.push(b'x');
        let err = lines(&data).unwrap_err();
        assert!(matches!(err.kind, RegErrorKind::Truncated(_)), "{err}");
        assert_eq!((err.line, err.column), (2, 3));
    }

    #[test]
    fn unpaired_surrogate_is_invalid() {
        let mut data = utf16("ab");
        data.extend([0x00, 0xD8, b'c', 0]);
        let err = lines(&data).unwrap_err();
        assert!(matches!(err.kind, RegErrorKind::InvalidValue(_)), "{err}");
        assert_eq!((err.line, err.column), (1, 3));
    }

    #[test]
    fn detects_boms_and_rejects_unsupported() {
        assert_eq!(lines(b"\xEF\xBB\xBFhi\r\nthere").unwrap(), ["hi", "there"]);
        let be = lines(b"\xFE\xFF\x00R").unwrap_err();
        assert!(matches!(&be.kind, RegErrorKind::WrongEncoding(m) if m.contains("big-endian")));
        let nobom = lines(b"R\x00E\x00").unwrap_err();
        assert!(
            matches!(&nobom.kind, RegErrorKind::WrongEncoding(m) if m.contains("byte-order mark"))
        );
        assert_eq!((nobom.line, nobom.column), (1, 1));
        let bad = lines(b"\xEF\xBB\xBFok\nab\xE9").unwrap_err();
        assert!(matches!(bad.kind, RegErrorKind::WrongEncoding(_)));
        assert_eq!((bad.line, bad.column), (2, 3));
    }

    #[test]
    fn ansi_lines_are_utf8_or_windows_1252() {
        assert_eq!(
            lines(b"caf\xE9 \x80\r\nna\xC3\xAFve").unwrap(),
            ["café €", "naïve"]
        );
        assert!(lines(b"").unwrap().is_empty());
        assert_eq!(lines(b"a\n\nb\n").unwrap(), ["a", "", "b"]);
    }
}
