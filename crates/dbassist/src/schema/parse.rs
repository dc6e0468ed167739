//! Reads `reference.schema` (its format is described at its top).

use super::{Column, ForeignKey, Index, Repair, Schema, SqlType, Table, Version};

/// Parses the schema text; errors name the line.
pub(super) fn parse(text: &str) -> Result<Schema, String> {
    let mut schema = Schema {
        builds: Vec::new(),
        tables: Vec::new(),
    };
    for (number, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim_end();
        if line.trim().is_empty() {
            continue;
        }
        parse_line(&mut schema, line).map_err(|e| format!("line {}: {e}: {raw}", number + 1))?;
    }
    Ok(schema)
}

fn parse_line(schema: &mut Schema, line: &str) -> Result<(), String> {
    let indented = line.starts_with(' ');
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or("");
    if indented {
        let table = schema.tables.last_mut().ok_or("column outside a table")?;
        let column = parse_column(first, line, table.since)?;
        if column.since < table.since {
            return Err("column older than its table".into());
        }
        table.columns.push(column);
        return Ok(());
    }
    match first {
        "build" => {
            let name = words.next().ok_or("build without a name")?;
            schema.builds.push(name.to_string());
        }
        "table" => {
            let name = words.next().ok_or("table without a name")?;
            let build = schema
                .builds
                .last()
                .ok_or("table before any build")?
                .clone();
            let mut table = Table {
                name: name.to_string(),
                build,
                group: String::new(),
                shape: String::new(),
                repair: None,
                since: Version::V30,
                columns: Vec::new(),
                indexes: Vec::new(),
                foreign_keys: Vec::new(),
            };
            for word in words {
                let (key, value) = word.split_once('=').ok_or("expected key=value")?;
                match key {
                    "group" => table.group = value.to_string(),
                    "rows" => table.shape = value.to_string(),
                    "since" => table.since = Version::parse(value).ok_or("bad version")?,
                    "repair" => {
                        table.repair = Some(match value {
                            "d" => Repair::Dups,
                            "n" => Repair::Nulls,
                            "nd" => Repair::Both,
                            _ => return Err("repair is d, n or nd".into()),
                        })
                    }
                    _ => return Err(format!("unknown table attribute {key}")),
                }
            }
            if table.group.is_empty() || table.shape.is_empty() {
                return Err("a table needs group= and rows=".into());
            }
            schema.tables.push(table);
        }
        "index" => {
            let table = schema.tables.last_mut().ok_or("index outside a table")?;
            let name = words.next().ok_or("index without a name")?;
            let columns: Vec<String> = words
                .next()
                .ok_or("index without columns")?
                .split(',')
                .map(str::to_string)
                .collect();
            for c in &columns {
                table.column(c).ok_or(format!("unknown column {c}"))?;
            }
            table.indexes.push(Index {
                name: name.to_string(),
                columns,
            });
        }
        "fk" => {
            let table = schema.tables.last_mut().ok_or("fk outside a table")?;
            let column = words.next().ok_or("fk without a column")?.to_string();
            if words.next() != Some("->") {
                return Err("expected ->".into());
            }
            let target = words.next().ok_or("fk without a parent")?;
            let (parent, rest) = target.split_once('(').ok_or("expected TABLE(COL)")?;
            let parent_column = rest.trim_end_matches(')').to_string();
            table.column(&column).ok_or("unknown fk column")?;
            table.foreign_keys.push(ForeignKey {
                column,
                parent: parent.to_string(),
                parent_column,
            });
        }
        _ => return Err(format!("unknown statement {first}")),
    }
    Ok(())
}

fn parse_column(name: &str, line: &str, since: Version) -> Result<Column, String> {
    let mut words = line.split_whitespace().skip(1);
    let ty = parse_type(words.next().ok_or("column without a type")?)?;
    let mut column = Column {
        name: name.to_string(),
        ty,
        not_null: false,
        key: false,
        since,
        default: None,
        role: None,
    };
    let rest: Vec<&str> = words.collect();
    let mut i = 0;
    while i < rest.len() {
        let word = rest[i];
        match word {
            "notnull" => column.not_null = true,
            "key" => column.key = true,
            _ if word.starts_with("since=") => {
                column.since = Version::parse(&word[6..]).ok_or("bad version")?
            }
            _ if word.starts_with("default=") => {
                column.default = Some(word[8..].parse().map_err(|_| "bad default")?)
            }
            _ => {
                // The generator's role: the rest of the line (a pick list
                // may hold spaces).
                column.role = Some(rest[i..].join(" "));
                break;
            }
        }
        i += 1;
    }
    Ok(column)
}

fn parse_type(text: &str) -> Result<SqlType, String> {
    let sized = |prefix: &str| -> Option<Result<u32, String>> {
        text.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_suffix(')'))
            .map(|n| n.parse().map_err(|_| format!("bad size in {text}")))
    };
    Ok(match text {
        "smallint" => SqlType::SmallInt,
        "int" => SqlType::Int,
        "bigint" => SqlType::BigInt,
        "float" => SqlType::Float,
        "text" => SqlType::Text,
        "timestamp" => SqlType::Timestamp,
        "blob" => SqlType::Blob,
        _ => {
            if let Some(n) = sized("varchar") {
                SqlType::Varchar(n?)
            } else if let Some(n) = sized("char") {
                SqlType::Char(n?)
            } else {
                return Err(format!("unknown type {text}"));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line() {
        let err = parse("build B\ntable T group=g rows=total:1\n  c wibble\n").unwrap_err();
        assert!(err.starts_with("line 3: unknown type wibble"), "{err}");
        let err = parse("table T group=g rows=total:1\n").unwrap_err();
        assert!(err.contains("before any build"), "{err}");
    }

    #[test]
    fn roles_keep_their_spaces() {
        let s = parse("build B\ntable T group=g rows=total:1\n  c varchar(9) notnull pick=a b|c\n")
            .unwrap();
        let c = &s.tables[0].columns[0];
        assert!(c.not_null);
        assert_eq!(c.role.as_deref(), Some("pick=a b|c"));
        assert_eq!(c.ty, SqlType::Varchar(9));
    }
}
