//! The staging table of a merged table step (D-05): the copy engine
//! bulk-loads each batch into `transit_migration.stage_<hash>_<table>`,
//! then the step's SQL merges it into the final table in the batch's
//! transaction — key translation, the NOT EXISTS idempotency check, the
//! record of the inserted keys for cleanup — and empties the staging
//! table again, so it is empty at every commit.
//!
//! The statements are generated once, written into the run folder's SQL
//! step between marker lines ([`render`]), and read back from that file
//! when the step executes ([`parse`]): the SQL a DBA reads is the SQL that
//! runs. A table loaded in bulk (it was empty when its copy began) needs
//! none of this: its batches go straight into it.

use super::state::{run_table, table_name};
use crate::dialect::{Dialect, Value};
use crate::error::{DbError, Result};

/// The line that opens the statements run once, before a merged table's
/// first batch.
pub const SETUP: &str = "-- >>> setup: once, before the first merged batch";
/// The line that opens the statements of every batch.
pub const BATCH: &str =
    "-- >>> each batch, after the batch's rows are loaded into the staging table";
/// The line that opens the statements run after the table's last batch.
pub const DONE: &str = "-- >>> done: after the last batch";
/// The line that ends the executed statements.
pub const END: &str = "-- <<< end of the executed statements";
/// Marks the batch statement whose row count is the batch's inserted rows.
pub const COUNTED: &str = "-- (its row count is the batch's inserted rows)";

/// A merged table step's statements, as the copy engine runs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Staging {
    /// The staging table (quoted, qualified): each batch is loaded into it.
    pub table: String,
    /// Run once before the first merged batch (creates the staging and
    /// key-record tables when missing, empties the staging table).
    pub setup: Vec<String>,
    /// Run in each batch's transaction, in order, after the load.
    pub batch: Vec<String>,
    /// The index in `batch` of the statement that inserts into the final
    /// table (its row count is the rows the batch inserted).
    pub counted: usize,
    /// Run after the table's last batch (drops the staging table).
    pub done: Vec<String>,
}

/// What a merge needs to know about its table.
pub struct MergeSpec<'a> {
    /// The run.
    pub run: &'a str,
    /// The target's scope (`db:` on MariaDB, whose `transit_migration` is
    /// shared by the target's databases; empty elsewhere).
    pub scope: &'a str,
    /// The source's identity in `key_map`.
    pub source: &'a str,
    /// The final table.
    pub table: &'a str,
    /// The written columns, in load order (copied, then filled).
    pub columns: &'a [String],
    /// The key columns.
    pub key: &'a [String],
    /// The key column translated through `key_map` ("" when none).
    pub translated_key: &'a str,
    /// Columns rewritten through a parent's key map: (column, parent).
    pub references: &'a [(String, String)],
}

fn lit(d: &dyn Dialect, text: &str) -> String {
    let mut out = String::new();
    d.literal(&Value::Text(text.to_string()), &mut out);
    out
}

/// The staging table of `table` in `run`.
pub fn stage_name(d: &dyn Dialect, scope: &str, run: &str, table: &str) -> String {
    run_table(d, scope, run, "stage", table)
}

/// The table that records the keys `run` inserted into `table` (merged),
/// for `transit db cleanup`.
pub fn keys_name(d: &dyn Dialect, scope: &str, run: &str, table: &str) -> String {
    run_table(d, scope, run, "keys", table)
}

/// The statements of a merged table step on `d`.
pub fn merge(d: &dyn Dialect, m: &MergeSpec<'_>) -> Staging {
    let stage = stage_name(d, m.scope, m.run, m.table);
    let keys = keys_name(d, m.scope, m.run, m.table);
    let final_t = d.ident(m.table);
    let cols: Vec<&str> = m.columns.iter().map(String::as_str).collect();
    let key: Vec<&str> = m.key.iter().map(String::as_str).collect();
    let list = d.ident_list(&cols);
    let key_list = d.ident_list(&key);
    let unlogged = if d.engine() == crate::engine::Engine::Postgres {
        "UNLOGGED "
    } else {
        ""
    };
    let setup = vec![
        format!("CREATE {unlogged}TABLE IF NOT EXISTS {stage} AS SELECT {list} FROM {final_t} WHERE 1 = 0"),
        format!("CREATE TABLE IF NOT EXISTS {keys} AS SELECT {key_list} FROM {final_t} WHERE 1 = 0"),
        format!("DELETE FROM {stage}"),
    ];
    let km = table_name(d, "key_map");
    let src = lit(d, m.source);
    let mut batch = Vec::new();
    if !m.translated_key.is_empty() {
        batch.push(format!(
            "UPDATE {stage} AS s SET {k} = (SELECT m.tgt_key FROM {km} m WHERE m.source = {src} AND m.tbl = {tbl} AND m.src_key = s.{k})",
            k = d.ident(m.translated_key),
            tbl = lit(d, m.table),
        ));
    }
    for (col, parent) in m.references {
        batch.push(format!(
            "UPDATE {stage} AS s SET {c} = COALESCE((SELECT m.tgt_key FROM {km} m WHERE m.source = {src} AND m.tbl = {p} AND m.src_key = s.{c}), s.{c})",
            c = d.ident(col),
            p = lit(d, parent),
        ));
    }
    let missing = format!(
        "NOT EXISTS (SELECT 1 FROM {final_t} f WHERE {})",
        key.iter()
            .map(|k| format!("f.{0} = s.{0}", d.ident(k)))
            .collect::<Vec<_>>()
            .join(" AND ")
    );
    let s_list = |names: &[&str]| {
        names
            .iter()
            .map(|c| format!("s.{}", d.ident(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    batch.push(format!(
        "INSERT INTO {keys} ({key_list}) SELECT {} FROM {stage} s WHERE {missing}",
        s_list(&key)
    ));
    let counted = batch.len();
    batch.push(format!(
        "INSERT INTO {final_t} ({list}) SELECT {} FROM {stage} s WHERE {missing}",
        s_list(&cols)
    ));
    batch.push(format!("DELETE FROM {stage}"));
    Staging {
        table: stage.clone(),
        setup,
        batch,
        counted,
        done: vec![format!("DROP TABLE IF EXISTS {stage}")],
    }
}

/// The statements as the SQL step shows them, between the marker lines
/// [`parse`] reads back.
pub fn render(s: &Staging) -> String {
    let mut out = String::new();
    out.push_str(SETUP);
    out.push('\n');
    for sql in &s.setup {
        out.push_str(sql);
        out.push_str(";\n");
    }
    out.push_str(BATCH);
    out.push('\n');
    for (i, sql) in s.batch.iter().enumerate() {
        if i == s.counted {
            out.push_str(COUNTED);
            out.push('\n');
        }
        out.push_str(sql);
        out.push_str(";\n");
    }
    out.push_str(DONE);
    out.push('\n');
    for sql in &s.done {
        out.push_str(sql);
        out.push_str(";\n");
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// The statements of an SQL step's text (`what` names the file in
/// errors). Comment lines between the markers are skipped; a statement
/// ends with a line that ends in `;`.
pub fn parse(text: &str, what: &str) -> Result<Staging> {
    #[derive(PartialEq)]
    enum Part {
        Before,
        Setup,
        Batch,
        Done,
        After,
    }
    let bad = |why: &str| DbError::Usage(format!("{what}: {why}"));
    let mut part = Part::Before;
    let mut s = Staging::default();
    let mut current = String::new();
    let mut counted = None;
    let mut next_counted = false;
    for line in text.lines() {
        let trimmed = line.trim_end();
        let marker = match trimmed {
            SETUP => Some(Part::Setup),
            BATCH => Some(Part::Batch),
            DONE => Some(Part::Done),
            END => Some(Part::After),
            _ => None,
        };
        if let Some(next) = marker {
            if !current.trim().is_empty() {
                return Err(bad(
                    "a statement does not end with `;` before a marker line",
                ));
            }
            part = next;
            continue;
        }
        if part == Part::Before || part == Part::After {
            continue;
        }
        if trimmed == COUNTED {
            next_counted = true;
            continue;
        }
        if current.is_empty() && (trimmed.starts_with("--") || trimmed.trim().is_empty()) {
            continue;
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
        if let Some(done) = current.trim_end().strip_suffix(';') {
            let sql = done.trim().to_string();
            current.clear();
            match part {
                Part::Setup => s.setup.push(sql),
                Part::Batch => {
                    if std::mem::take(&mut next_counted) {
                        counted = Some(s.batch.len());
                    }
                    s.batch.push(sql);
                }
                Part::Done => s.done.push(sql),
                Part::Before | Part::After => {}
            }
        }
    }
    if part != Part::After {
        return Err(bad(
            "the executed statements are missing or not closed (the marker lines \
             `-- >>> …` and `-- <<< …` of the generated step were removed)",
        ));
    }
    s.counted = counted.ok_or_else(|| {
        bad(&format!(
            "no batch statement is marked with `{COUNTED}` (the insert into the final table)"
        ))
    })?;
    // The staging table is the one the setup creates.
    s.table = s
        .setup
        .iter()
        .find_map(|sql| {
            let rest = sql.split_once(" AS SELECT ")?.0;
            rest.rsplit_once("IF NOT EXISTS ")
                .map(|(_, t)| t.trim().to_string())
        })
        .filter(|t| t.contains("stage"))
        .ok_or_else(|| bad("the setup does not create the staging table"))?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::dialect_for;
    use crate::engine::Engine;

    fn spec<'a>(
        columns: &'a [String],
        key: &'a [String],
        refs: &'a [(String, String)],
    ) -> MergeSpec<'a> {
        MergeSpec {
            run: "r1",
            scope: "",
            source: "postgres://src/db",
            table: "ICon_Participant",
            columns,
            key,
            translated_key: "ParticipantId",
            references: refs,
        }
    }

    #[test]
    fn rendered_statements_parse_back_unchanged_on_every_engine() {
        let columns = vec!["ParticipantId".to_string(), "ConferenceId".to_string()];
        let key = vec!["ParticipantId".to_string()];
        let refs = vec![("ConferenceId".to_string(), "ICon_Conference".to_string())];
        for engine in [Engine::Postgres, Engine::MySql, Engine::Sqlite] {
            let d = dialect_for(engine);
            let s = merge(d, &spec(&columns, &key, &refs));
            let text = format!("-- a header\nSELECT 1;\n\n{}\n-- after\n", render(&s));
            let back = parse(&text, "step").unwrap();
            assert_eq!(back, s, "{engine:?}");
            assert!(s.batch[s.counted]
                .starts_with(&format!("INSERT INTO {}", d.ident("ICon_Participant"))));
            assert!(s.table.contains("stage_"), "{}", s.table);
        }
    }

    #[test]
    fn a_step_without_its_markers_or_counted_statement_is_refused() {
        let columns = vec!["ParticipantId".to_string()];
        let key = columns.clone();
        let d = dialect_for(Engine::Sqlite);
        let text = render(&merge(d, &spec(&columns, &key, &[])));
        let no_end = text.replace(END, "");
        assert!(parse(&no_end, "05-x.sql")
            .unwrap_err()
            .to_string()
            .contains("05-x.sql"));
        let no_count = text.replace(COUNTED, "");
        assert!(parse(&no_count, "s")
            .unwrap_err()
            .to_string()
            .contains("marked"));
        let open = text.replacen(";\n-- >>> each", "\n-- >>> each", 1);
        assert!(parse(&open, "s").is_err());
    }
}
