//! The two report formats, as [`DiffSink`]s that write as differences
//! arrive (memory does not grow with the number of differences).
//!
//! Text, for people:
//!
//! ```text
//! --- A: out/CIC01_….ininmigr (migration file: server CIC01, site Indy, cic)
//! +++ B: server (server root: server CIC01, site Indy, cic)
//!
//! == Users
//! ~ {ds}\Users\jdoe
//!     Title: "Agent" -> "Supervisor"
//!     + Mobile: "555-0100"
//! - {ds}\Users\bob
//!     - Title: "Agent"
//! -- Users: keys +0 -1 ~1, values +1 -1 ~1, files +0 -0 ~0
//!
//! == Prompts and Resources
//! + files/Resources/Prompts/x.wav  (1234 bytes)
//! -- Prompts and Resources: keys +0 -0 ~0, values +0 -0 ~0, files +1 -0 ~0
//!
//! A and B differ in 2 of 34 groups: keys +0 -1 ~1, values +1 -1 ~1, files +1 -0 ~0
//! ```
//!
//! Groups without differences print nothing. With `--stat` only the
//! `--` count lines (without the dashes) and the last line are printed.
//!
//! JSON, for scripts: one document,
//! `{"a": side, "b": side, "notes": [..], "components": [{"id", "status",
//! "registry", "files", "keys": [..], "file_changes": [..], "counts"}, ..],
//! "summary": {"equal", "components_compared", "components_different",
//! "total"}}`. A key is `{"key", "change": "added"|"removed"|"changed",
//! "values": [..]}`; a value of an added or removed key is `{"name",
//! "type", "data"}`, a value of a changed key `{"name", "change", "old":
//! {"type", "data"}, "new": {..}}`; data is a string, a list of strings, a
//! number, or hex bytes (`"01,ff"`) as `transit registry get --json` gives.
//! A file change is `{"path", "change", "old", "new"}` (only the sides that
//! have the file) with `{"size", "sha256"}`, the hash `null` where it was
//! not needed. `status` is `compared`, `only-in-a` or `only-in-b`; `files`
//! is `compared`, `none` or `{"skipped": why}`.

use super::{
    Counts, DiffSink, DiffSummary, FileChange, FileDiff, FileInfo, FilesStatus, GroupInfo,
    GroupStatus, KeyChange, KeyDiff, SideInfo, ValueDiff,
};
use serde_json::{json, Value};
use std::io::{self, Write};
use transit_registry::{NamedValue, ValueData};

/// The short form of a group's counts: `keys +1 -2 ~3, values …, files …`.
pub fn counts_line(c: &Counts) -> String {
    format!(
        "keys +{} -{} ~{}, values +{} -{} ~{}, files +{} -{} ~{}",
        c.keys_added,
        c.keys_removed,
        c.keys_changed,
        c.values_added,
        c.values_removed,
        c.values_changed,
        c.files_added,
        c.files_removed,
        c.files_changed
    )
}

/// A value's data on one line: `"text"`, `expand:"…"`, `multi:["a", "b"]`,
/// `dword:10`, `qword:10`, `hex:01,ff`.
pub fn value_text(data: &ValueData) -> String {
    match data {
        ValueData::Sz(s) => quote(s),
        ValueData::ExpandSz(s) => format!("expand:{}", quote(s)),
        ValueData::MultiSz(items) => {
            let items: Vec<String> = items.iter().map(|s| quote(s)).collect();
            format!("multi:[{}]", items.join(", "))
        }
        ValueData::Dword(n) => format!("dword:{n}"),
        ValueData::Qword(n) => format!("qword:{n}"),
        ValueData::Binary(_) => format!("hex:{data}"),
        ValueData::Raw { .. } => data.to_string(),
    }
}

/// A string in double quotes. Only quotes and control characters are
/// escaped, so Windows paths stay readable (`"C:\Program Files"`).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value name as shown: `@` for the default value.
fn name_text(name: &str) -> &str {
    if name.is_empty() {
        "@"
    } else {
        name
    }
}

fn size_text(info: &FileInfo) -> String {
    format!("{} bytes", info.size)
}

fn short_hash(info: &FileInfo) -> &str {
    info.sha256
        .as_deref()
        .map_or("?", |h| &h[..h.len().min(12)])
}

/// The text report. With `stat`, only each differing group's counts and
/// the summary are written.
pub struct TextReport<W: Write> {
    out: W,
    stat: bool,
    /// The heading of the current group, until something is written under it.
    heading: Option<String>,
}

impl<W: Write> TextReport<W> {
    /// A report written to `out`.
    pub fn new(out: W, stat: bool) -> Self {
        TextReport {
            out,
            stat,
            heading: None,
        }
    }

    /// The writer back (to flush it).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn heading(&mut self) -> io::Result<()> {
        if let Some(h) = self.heading.take() {
            writeln!(self.out, "\n== {h}")?;
        }
        Ok(())
    }

    fn value_line(&mut self, sign: &str, v: &NamedValue) -> io::Result<()> {
        writeln!(
            self.out,
            "    {sign}{}: {}",
            name_text(&v.name),
            value_text(&v.data)
        )
    }
}

impl<W: Write> DiffSink for TextReport<W> {
    fn begin(&mut self, a: &SideInfo, b: &SideInfo, notes: &[String]) -> io::Result<()> {
        writeln!(self.out, "--- A: {} ({})", a.path.display(), a.describe())?;
        writeln!(self.out, "+++ B: {} ({})", b.path.display(), b.describe())?;
        if a.ds() != b.ds() {
            for (name, side) in [("A", a), ("B", b)] {
                if let Some(ds) = side.ds() {
                    writeln!(self.out, "    {name}: {{ds}} = {ds}")?;
                }
            }
        }
        for note in notes {
            writeln!(self.out, "note: {note}")?;
        }
        Ok(())
    }

    fn group(&mut self, group: &GroupInfo) -> io::Result<()> {
        self.heading = Some(group.id.clone());
        match group.status {
            GroupStatus::Compared => Ok(()),
            GroupStatus::OnlyInA | GroupStatus::OnlyInB => {
                let (has, lacks) = if group.status == GroupStatus::OnlyInA {
                    ("A", "B")
                } else {
                    ("B", "A")
                };
                if self.stat {
                    self.heading = None;
                    writeln!(self.out, "{}: only in {has}", group.id)
                } else {
                    self.heading()?;
                    writeln!(
                        self.out,
                        "only in {has}: {lacks}'s migration file does not hold this component"
                    )
                }
            }
        }
    }

    fn key(&mut self, diff: &KeyDiff) -> io::Result<()> {
        if self.stat {
            return Ok(());
        }
        self.heading()?;
        match &diff.change {
            KeyChange::Added(values) => {
                writeln!(self.out, "+ {}", diff.key)?;
                for v in values {
                    self.value_line("+ ", v)?;
                }
            }
            KeyChange::Removed(values) => {
                writeln!(self.out, "- {}", diff.key)?;
                for v in values {
                    self.value_line("- ", v)?;
                }
            }
            KeyChange::Changed(values) => {
                writeln!(self.out, "~ {}", diff.key)?;
                for v in values {
                    match v {
                        ValueDiff::Added(v) => self.value_line("+ ", v)?,
                        ValueDiff::Removed(v) => self.value_line("- ", v)?,
                        ValueDiff::Changed { name, old, new } => writeln!(
                            self.out,
                            "    {}: {} -> {}",
                            name_text(name),
                            value_text(old),
                            value_text(new)
                        )?,
                    }
                }
            }
        }
        Ok(())
    }

    fn file(&mut self, diff: &FileDiff) -> io::Result<()> {
        if self.stat {
            return Ok(());
        }
        self.heading()?;
        match &diff.change {
            FileChange::Added(info) => writeln!(self.out, "+ {}  ({})", diff.path, size_text(info)),
            FileChange::Removed(info) => {
                writeln!(self.out, "- {}  ({})", diff.path, size_text(info))
            }
            FileChange::Changed { old, new } if old.size != new.size => writeln!(
                self.out,
                "~ {}  ({} -> {} bytes)",
                diff.path, old.size, new.size
            ),
            FileChange::Changed { old, new } => writeln!(
                self.out,
                "~ {}  ({}, sha256 {}… -> {}…)",
                diff.path,
                size_text(old),
                short_hash(old),
                short_hash(new)
            ),
        }
    }

    fn end_group(&mut self, group: &GroupInfo, counts: &Counts) -> io::Result<()> {
        self.heading = None;
        if counts.is_zero() {
            return Ok(());
        }
        if self.stat {
            writeln!(self.out, "{}: {}", group.id, counts_line(counts))
        } else {
            writeln!(self.out, "-- {}: {}", group.id, counts_line(counts))
        }
    }

    fn finish(&mut self, summary: &DiffSummary) -> io::Result<()> {
        let compared = summary.groups.len();
        let differing = summary
            .groups
            .iter()
            .filter(|(g, c)| g.status != GroupStatus::Compared || !c.is_zero())
            .count();
        if summary.equal {
            writeln!(
                self.out,
                "\nA and B are the same ({compared} groups compared)"
            )
        } else {
            writeln!(
                self.out,
                "\nA and B differ in {differing} of {compared} groups: {}",
                counts_line(&summary.total)
            )
        }
    }
}

/// The JSON report (see the module documentation). With `stat`, the
/// `keys` and `file_changes` lists are left out.
pub struct JsonReport<W: Write> {
    out: W,
    stat: bool,
    /// Groups written so far (for the separating commas).
    groups: usize,
    /// Items in the open list of the current group.
    items: usize,
    /// Whether the current group's `keys` list is open.
    in_keys: bool,
    /// Whether its `file_changes` list is open.
    in_files: bool,
}

impl<W: Write> JsonReport<W> {
    /// A report written to `out`.
    pub fn new(out: W, stat: bool) -> Self {
        JsonReport {
            out,
            stat,
            groups: 0,
            items: 0,
            in_keys: false,
            in_files: false,
        }
    }

    /// The writer back (to flush it).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn item(&mut self, value: &Value) -> io::Result<()> {
        if self.items > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n")?;
        self.items += 1;
        serde_json::to_writer(&mut self.out, value).map_err(io::Error::other)
    }

    fn close_list(&mut self) -> io::Result<()> {
        if self.in_keys || self.in_files {
            self.out.write_all(b"\n]")?;
            self.in_keys = false;
            self.in_files = false;
            self.items = 0;
        }
        Ok(())
    }
}

fn data_json(data: &ValueData) -> Value {
    let value = match data {
        ValueData::Sz(s) | ValueData::ExpandSz(s) => json!(s),
        ValueData::MultiSz(items) => json!(items),
        ValueData::Dword(n) => json!(n),
        ValueData::Qword(n) => json!(n),
        ValueData::Binary(_) | ValueData::Raw { .. } => json!(data.to_string()),
    };
    json!({ "type": data.kind().name(), "data": value })
}

fn named_json(v: &NamedValue) -> Value {
    let mut out = data_json(&v.data);
    out["name"] = json!(v.name);
    out
}

fn key_json(diff: &KeyDiff) -> Value {
    let (change, values): (&str, Vec<Value>) = match &diff.change {
        KeyChange::Added(values) => ("added", values.iter().map(named_json).collect()),
        KeyChange::Removed(values) => ("removed", values.iter().map(named_json).collect()),
        KeyChange::Changed(values) => (
            "changed",
            values
                .iter()
                .map(|v| match v {
                    ValueDiff::Added(v) => {
                        json!({ "name": v.name, "change": "added", "new": data_json(&v.data) })
                    }
                    ValueDiff::Removed(v) => {
                        json!({ "name": v.name, "change": "removed", "old": data_json(&v.data) })
                    }
                    ValueDiff::Changed { name, old, new } => json!({
                        "name": name, "change": "changed",
                        "old": data_json(old), "new": data_json(new),
                    }),
                })
                .collect(),
        ),
    };
    json!({ "key": diff.key, "change": change, "values": values })
}

fn file_json(diff: &FileDiff) -> Value {
    match &diff.change {
        FileChange::Added(new) => json!({ "path": diff.path, "change": "added", "new": new }),
        FileChange::Removed(old) => json!({ "path": diff.path, "change": "removed", "old": old }),
        FileChange::Changed { old, new } => {
            json!({ "path": diff.path, "change": "changed", "old": old, "new": new })
        }
    }
}

impl<W: Write> DiffSink for JsonReport<W> {
    fn begin(&mut self, a: &SideInfo, b: &SideInfo, notes: &[String]) -> io::Result<()> {
        let head = |side: &SideInfo| {
            let mut v = serde_json::to_value(side).unwrap_or(Value::Null);
            v["ds"] = json!(side.ds().map(|k| k.to_string()));
            v
        };
        write!(
            self.out,
            "{{\"a\":{},\"b\":{},\"notes\":{},\"components\":[",
            head(a),
            head(b),
            json!(notes)
        )
    }

    fn group(&mut self, group: &GroupInfo) -> io::Result<()> {
        if self.groups > 0 {
            self.out.write_all(b",")?;
        }
        self.groups += 1;
        let files = match &group.files {
            FilesStatus::None => json!("none"),
            FilesStatus::Compared => json!("compared"),
            FilesStatus::Skipped(why) => json!({ "skipped": why }),
        };
        let head = json!({
            "id": group.id, "status": group.status, "registry": group.registry, "files": files,
        });
        // Reopen the object to append the lists and counts.
        let text = head.to_string();
        write!(self.out, "\n{}", &text[..text.len() - 1])?;
        self.items = 0;
        if !self.stat {
            self.out.write_all(b",\"keys\":[")?;
            self.in_keys = true;
        }
        Ok(())
    }

    fn key(&mut self, diff: &KeyDiff) -> io::Result<()> {
        if self.stat {
            return Ok(());
        }
        self.item(&key_json(diff))
    }

    fn file(&mut self, diff: &FileDiff) -> io::Result<()> {
        if self.stat {
            return Ok(());
        }
        if self.in_keys {
            self.close_list()?;
            self.out.write_all(b",\"file_changes\":[")?;
            self.in_files = true;
        }
        self.item(&file_json(diff))
    }

    fn end_group(&mut self, _group: &GroupInfo, counts: &Counts) -> io::Result<()> {
        if self.in_keys {
            self.close_list()?;
            if !self.stat {
                self.out.write_all(b",\"file_changes\":[]")?;
            }
        } else {
            self.close_list()?;
        }
        write!(self.out, ",\"counts\":{}}}", json!(counts))
    }

    fn finish(&mut self, summary: &DiffSummary) -> io::Result<()> {
        let differing = summary
            .groups
            .iter()
            .filter(|(g, c)| g.status != GroupStatus::Compared || !c.is_zero())
            .count();
        let tail = json!({
            "equal": summary.equal,
            "components_compared": summary.groups.len(),
            "components_different": differing,
            "total": summary.total,
        });
        writeln!(self.out, "\n],\"summary\":{tail}}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_render_on_one_line_with_their_kind() {
        let cases = [
            (
                ValueData::Sz("C:\\Program Files\\x".into()),
                r#""C:\Program Files\x""#,
            ),
            (ValueData::Sz("say \"hi\"\n".into()), r#""say \"hi\"\n""#),
            (ValueData::ExpandSz("%TEMP%".into()), r#"expand:"%TEMP%""#),
            (
                ValueData::MultiSz(vec!["a".into(), "b c".into()]),
                r#"multi:["a", "b c"]"#,
            ),
            (ValueData::Dword(10), "dword:10"),
            (ValueData::Qword(u64::MAX), "qword:18446744073709551615"),
            (ValueData::Binary(vec![0, 0xff]), "hex:00,ff"),
        ];
        for (data, text) in cases {
            assert_eq!(value_text(&data), text);
        }
    }
}
