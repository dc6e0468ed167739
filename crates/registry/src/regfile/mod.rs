//! Streaming reader and writer for Windows registry `.reg` files.
//!
//! Two formats exist, and both behave as Windows `regedit` does:
//!
//! * [`RegFormat::Regedit5`]: header `Windows Registry Editor Version 5.00`,
//!   written as UTF-16LE with a byte-order mark; `hex(N):` string payloads are
//!   UTF-16LE.
//! * [`RegFormat::Regedit4`]: header `REGEDIT4`, written in the ANSI code page
//!   (Windows-1252); `hex(N):` string payloads are 8-bit.
//!
//! [`RegReader`] yields one [`RegItem`] per key line or value line without
//! ever holding more than one logical line (plus the value being built) in
//! memory. [`RegWriter`] produces byte-for-byte what `regedit /e` produces,
//! including the wrapping of long `hex:` lists.

mod decode;
mod parse;
mod write;

use std::fmt;
use std::io::Read;

use crate::value::ValueData;

pub use write::RegWriter;

/// Which `.reg` dialect a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegFormat {
    /// `Windows Registry Editor Version 5.00`: UTF-16LE text and payloads.
    Regedit5,
    /// `REGEDIT4`: ANSI (Windows-1252) text and payloads.
    Regedit4,
}

impl RegFormat {
    /// The header line that opens a file of this format.
    pub fn header(self) -> &'static str {
        match self {
            RegFormat::Regedit5 => "Windows Registry Editor Version 5.00",
            RegFormat::Regedit4 => "REGEDIT4",
        }
    }
}

/// One item read from a `.reg` file.
///
/// Key paths are the full Windows paths exactly as written between the
/// brackets (for example `HKEY_LOCAL_MACHINE\SOFTWARE\Interactive
/// Intelligence\EIC`); the caller maps them. `line` is the 1-based physical
/// line on which the item starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegItem {
    /// `[PATH]`: create or open a key; following values belong to it.
    Key {
        /// The full key path.
        path: String,
        /// The line of the `[`.
        line: u64,
    },
    /// `[-PATH]`: delete a key and its whole subtree.
    DeleteKey {
        /// The full key path.
        path: String,
        /// The line of the `[`.
        line: u64,
    },
    /// `"name"=data` or `@=data`: set a value of the current key.
    Value {
        /// The value name; `None` for the default value (`@`, or `""`).
        name: Option<String>,
        /// The decoded, validated data.
        data: ValueData,
        /// The line the value starts on.
        line: u64,
    },
    /// `"name"=-` or `@=-`: delete a value of the current key.
    DeleteValue {
        /// The value name; `None` for the default value.
        name: Option<String>,
        /// The line of the value.
        line: u64,
    },
}

/// The last line of a `.reg` file that does not end with a line end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLine {
    /// Its number (1-based).
    pub line: u64,
    /// Its text (the first 80 characters).
    pub text: String,
}

/// An error reading or writing a `.reg` file, with where it happened.
///
/// Displays as `line L, column C: message`; the location is left out when it
/// is not applicable (0).
#[derive(Debug, thiserror::Error)]
#[error("{}{kind}", Location(*.line, *.column))]
pub struct RegFileError {
    /// What went wrong.
    pub kind: RegErrorKind,
    /// 1-based physical line, or 0 when not applicable.
    pub line: u64,
    /// 1-based column in characters, or 0 when not applicable.
    pub column: u64,
}

impl RegFileError {
    /// An error at the given 1-based line and column.
    pub fn new(kind: RegErrorKind, line: u64, column: u64) -> Self {
        RegFileError { kind, line, column }
    }
}

impl transit_core::Kind for RegFileError {
    fn kind(&self) -> transit_core::ErrorKind {
        match self.kind {
            // Writing: the data does not fit the format; not a bad input file.
            RegErrorKind::Unrepresentable(_) => transit_core::ErrorKind::ExportUnrepresentable,
            _ => transit_core::ErrorKind::BadInput,
        }
    }
}

impl From<std::io::Error> for RegFileError {
    fn from(e: std::io::Error) -> Self {
        RegFileError::new(RegErrorKind::Io(e), 0, 0)
    }
}

/// Formats the `line L, column C: ` prefix of an error message.
struct Location(u64, u64);

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (0, _) => Ok(()),
            (line, 0) => write!(f, "line {line}: "),
            (line, column) => write!(f, "line {line}, column {column}: "),
        }
    }
}

/// The kinds of [`RegFileError`].
#[derive(Debug, thiserror::Error)]
pub enum RegErrorKind {
    /// The first non-blank line is not a known header (or the file is empty).
    #[error("missing header: expected \"Windows Registry Editor Version 5.00\" or \"REGEDIT4\"")]
    MissingHeader,
    /// The file uses an encoding `regedit` cannot read.
    #[error("wrong encoding: {0}")]
    WrongEncoding(String),
    /// A line does not follow the `.reg` grammar.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// A hex byte or number is malformed.
    #[error("bad hex: {0}")]
    BadHex(String),
    /// `hex(N):` names a value type Transit does not model.
    #[error("unsupported value type hex({0:x})")]
    UnsupportedType(u32),
    /// The decoded data is not a valid value (see [`ValueData::validate`]).
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// The input ended inside a construct.
    #[error("unexpected end of file: {0}")]
    Truncated(String),
    /// The writer was asked for something the format cannot hold.
    #[error("unrepresentable: {0}")]
    Unrepresentable(String),
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// What the last key line said, which decides whether values may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// No key line yet.
    None,
    /// After `[PATH]`.
    Key,
    /// After `[-PATH]`.
    Deleted,
}

/// Streams [`RegItem`]s out of a `.reg` file.
///
/// The input is read through an internal 256 KiB buffer; memory use is
/// bounded by the longest physical line plus the value being decoded. After
/// the first error the iterator is exhausted.
pub struct RegReader<R: Read> {
    lines: decode::LineReader<R>,
    format: RegFormat,
    line: String,
    block: Block,
    done: bool,
}

impl<R: Read> RegReader<R> {
    /// Detects the encoding, then reads and checks the header line.
    pub fn new(reader: R) -> Result<Self, RegFileError> {
        let mut lines = decode::LineReader::new(reader)?;
        let mut line = String::new();
        let format = loop {
            let Some(no) = lines.read_line(&mut line)? else {
                return Err(RegFileError::new(RegErrorKind::MissingHeader, 0, 0));
            };
            let text = line.trim_end();
            if text.trim_start().is_empty() {
                continue;
            }
            break match text {
                "Windows Registry Editor Version 5.00" => RegFormat::Regedit5,
                "REGEDIT4" => RegFormat::Regedit4,
                _ => return Err(RegFileError::new(RegErrorKind::MissingHeader, no, 1)),
            };
        };
        Ok(RegReader {
            lines,
            format,
            line,
            block: Block::None,
            done: false,
        })
    }

    /// The format named by the file's header.
    pub fn format(&self) -> RegFormat {
        self.format
    }

    /// Once every item was read: the last line, when the file does not end
    /// with a line end. regedit ends every file with one, so such a file
    /// may have been cut off, even where its last line looks complete.
    pub fn unterminated_last_line(&self) -> Option<LastLine> {
        (!self.lines.last_line_terminated()).then(|| LastLine {
            line: self.lines.line_no(),
            text: self.lines.unterminated_text().to_string(),
        })
    }

    /// Reads physical lines until one yields an item.
    fn next_item(&mut self) -> Result<Option<RegItem>, RegFileError> {
        loop {
            let Some(no) = self.lines.read_line(&mut self.line)? else {
                return Ok(None);
            };
            let parsed = match parse::parse_line(&self.line, no, self.format) {
                Ok(p) => p,
                Err(e) => return Err(self.truncated_only_at_eof(e)?),
            };
            let item = match parsed {
                parse::Parsed::Skip => continue,
                parse::Parsed::Item(item) => item,
                parse::Parsed::Hex(mut hex) => {
                    self.check_block(no)?;
                    self.read_continuation(&mut hex)?;
                    hex.finish(self.format)?
                }
            };
            match item {
                RegItem::Key { .. } => self.block = Block::Key,
                RegItem::DeleteKey { .. } => self.block = Block::Deleted,
                RegItem::Value { line, .. } | RegItem::DeleteValue { line, .. } => {
                    self.check_block(line)?
                }
            }
            return Ok(Some(item));
        }
    }

    /// Fails unless a value may appear here.
    fn check_block(&self, line: u64) -> Result<(), RegFileError> {
        let msg = match self.block {
            Block::Key => return Ok(()),
            Block::None => "value line before any [key] line",
            Block::Deleted => "value line after a [-key] deletion",
        };
        Err(RegFileError::new(RegErrorKind::Syntax(msg.into()), line, 1))
    }

    /// Feeds continuation lines into `hex` until its list ends.
    fn read_continuation(&mut self, hex: &mut parse::HexValue) -> Result<(), RegFileError> {
        while hex.wants_more() {
            let Some(no) = self.lines.read_line(&mut self.line)? else {
                return Err(hex.truncated());
            };
            hex.feed(&self.line, no)?;
        }
        Ok(())
    }

    /// A line that ends early is only `Truncated` at the end of input;
    /// elsewhere it is a syntax error.
    fn truncated_only_at_eof(&mut self, mut e: RegFileError) -> Result<RegFileError, RegFileError> {
        if let RegErrorKind::Truncated(msg) = &mut e.kind {
            if !self.lines.is_eof()? {
                e.kind = RegErrorKind::Syntax(std::mem::take(msg));
            }
        }
        Ok(e)
    }
}

impl<R: Read> Iterator for RegReader<R> {
    type Item = Result<RegItem, RegFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_item() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests;
