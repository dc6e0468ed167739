//! The reference schema of a contact-center reporting database at its two
//! versions, "3.0" (the source) and "2015 R1" (the target).
//!
//! The tables are data (`reference.schema`, embedded and parsed once): each
//! belongs to one of the vendor's build scripts, which run in the vendor's
//! fixed order ([`Schema::builds`]). A column or table may appear only from
//! 2015 R1 on (the UTC, `odsoffset` and service-level columns, Dialer's
//! consolidated tables); the tables the vendor's repair scripts name get
//! their primary key only in 2015 R1.

mod parse;

use serde::Serialize;
use std::fmt;
use std::sync::OnceLock;

/// A schema version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Version {
    /// CIC 3.0, the migration's source.
    #[serde(rename = "3.0")]
    V30,
    /// CIC 2015 R1, the migration's target.
    #[serde(rename = "2015 R1")]
    R2015,
}

impl Version {
    /// Every version, oldest first.
    pub const ALL: [Version; 2] = [Version::V30, Version::R2015];

    /// The vendor's name, as stored in the version table ("3.0", "2015 R1").
    pub fn label(self) -> &'static str {
        match self {
            Version::V30 => "3.0",
            Version::R2015 => "2015 R1",
        }
    }

    /// Reads "3.0", "2015R1" or "2015 R1" (case-insensitive).
    pub fn parse(text: &str) -> Option<Version> {
        let folded: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        match folded.as_str() {
            "3.0" | "30" => Some(Version::V30),
            "2015r1" => Some(Version::R2015),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A column type, mapped to each engine by its dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SqlType {
    /// 16-bit integer.
    SmallInt,
    /// 32-bit integer.
    Int,
    /// 64-bit integer.
    BigInt,
    /// Double-precision float.
    Float,
    /// Variable-length text of at most N characters.
    Varchar(u32),
    /// Fixed-length text of N characters (blank-padded where the engine pads).
    Char(u32),
    /// Long text.
    Text,
    /// Date and time to the second, without a time zone (local or UTC by
    /// the column's meaning).
    Timestamp,
    /// Bytes.
    Blob,
}

impl SqlType {
    /// The longest text this column holds, in characters.
    pub fn max_chars(self) -> Option<u32> {
        match self {
            SqlType::Varchar(n) | SqlType::Char(n) => Some(n),
            _ => None,
        }
    }

    /// True for the integer types.
    pub fn is_integer(self) -> bool {
        matches!(self, SqlType::SmallInt | SqlType::Int | SqlType::BigInt)
    }
}

/// One column.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// The vendor's name.
    pub name: String,
    /// Its type.
    pub ty: SqlType,
    /// Declared NOT NULL.
    pub not_null: bool,
    /// Part of the table's primary key.
    pub key: bool,
    /// The first version that has it.
    pub since: Version,
    /// Its default, for columns that an upgrade adds to existing rows.
    pub default: Option<i64>,
    /// How the history generator fills it (see `generate::fill`).
    pub role: Option<String>,
}

/// Which of the vendor's repair scripts apply to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Repair {
    /// `Delete_Dups_<table>`.
    Dups,
    /// `Delete_Nulls_<table>`.
    Nulls,
    /// Both, nulls first.
    Both,
}

impl Repair {
    /// True when the duplicate script applies.
    pub fn dups(self) -> bool {
        matches!(self, Repair::Dups | Repair::Both)
    }

    /// True when the NULL script applies.
    pub fn nulls(self) -> bool {
        matches!(self, Repair::Nulls | Repair::Both)
    }
}

/// A secondary index.
#[derive(Debug, Clone, Serialize)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its columns.
    pub columns: Vec<String>,
}

/// A foreign key.
#[derive(Debug, Clone, Serialize)]
pub struct ForeignKey {
    /// The child column.
    pub column: String,
    /// The parent table.
    pub parent: String,
    /// The parent column.
    pub parent_column: String,
}

/// One table of the reference schema.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The vendor's name.
    pub name: String,
    /// The build script that creates it.
    pub build: String,
    /// Its table group (D-02): reporting, tracker-config, tracker-intx,
    /// recorder, optimizer, survey, conference, director, dialer, workflow,
    /// iwp.
    pub group: String,
    /// How many rows the generator makes (see `generate::shape`).
    pub shape: String,
    /// The vendor repair scripts that apply.
    pub repair: Option<Repair>,
    /// The first version that has it.
    pub since: Version,
    /// Every column of every version, in order.
    pub columns: Vec<Column>,
    /// Secondary indexes.
    pub indexes: Vec<Index>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
}

impl Table {
    /// The columns present at `version`.
    pub fn columns_at(&self, version: Version) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(move |c| c.since <= version)
    }

    /// The primary-key columns.
    pub fn key(&self) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|c| c.key)
            .map(|c| c.name.as_str())
            .collect()
    }

    /// True when the primary key is declared at `version` (repair tables
    /// get theirs only in 2015 R1).
    pub fn key_at(&self, version: Version) -> bool {
        !self.key().is_empty() && (self.repair.is_none() || version >= Version::R2015)
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// The whole reference schema.
#[derive(Debug, Serialize)]
pub struct Schema {
    /// The build scripts, in the vendor's fixed order.
    pub builds: Vec<String>,
    /// Every table, in build order (parents before children).
    pub tables: Vec<Table>,
}

/// The name of the version table `check` reads: one row per build script
/// applied, per version.
pub const VERSION_TABLE: &str = "ININ_APP_VERSION";

impl Schema {
    /// The reference schema (parsed once).
    pub fn reference() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            parse::parse(include_str!("reference.schema"))
                .unwrap_or_else(|e| panic!("reference.schema: {e}"))
        })
    }

    /// A table by name (case-insensitive).
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// The tables present at `version`, in build order.
    pub fn tables_at(&self, version: Version) -> impl Iterator<Item = &Table> {
        self.tables.iter().filter(move |t| t.since <= version)
    }

    /// The build scripts that make up `version`, in order: each one that
    /// creates or changes a table at that version.
    pub fn builds_at(&self, version: Version) -> Vec<&str> {
        self.builds
            .iter()
            .filter(|b| {
                self.tables.iter().any(|t| {
                    &t.build == *b
                        && (t.since == version
                            || (t.since < version
                                && (t.columns.iter().any(|c| c.since == version)
                                    || (t.repair.is_some() && version == Version::R2015))))
                })
            })
            .map(String::as_str)
            .collect()
    }

    /// The tables the vendor's repair scripts name, in the vendor's order
    /// of the SQL Server scripts.
    pub fn repair_tables(&self) -> Vec<&Table> {
        REPAIR_ORDER
            .iter()
            .filter_map(|name| self.table(name))
            .collect()
    }
}

/// The tables of the vendor's `Delete_Dups_`/`Delete_Nulls_` scripts, in
/// the documented order.
pub const REPAIR_ORDER: [&str; 18] = [
    "AgentActivityLog",
    "AgentQueueActivationHist",
    "IACChangeLog",
    "ICDirChangeLog",
    "ILineGroupStats",
    "ILineStats",
    "IPA_Flow_Notes",
    "IVRInterval",
    "LineConfig",
    "LineGroupConfig",
    "CallDetail",
    "LineGroupLines",
    "SurveyConfigLog",
    "SurveyDetail",
    "SurveyObjectToSurveyPrompt",
    "SurveyUserObjectSecurity",
    "SurveyWork",
    "UserWorkGroups",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_schema_parses_and_is_consistent() {
        let schema = Schema::reference();
        assert_eq!(
            schema.builds_at(Version::V30),
            [
                "ICUpgrade",
                "TrackerUpgrade",
                "TrackerBuild",
                "IRBuild",
                "OptimizerBuild",
                "CSSurveyBuild",
                "WorkflowBuild",
                "IWPBuild"
            ]
        );
        assert!(schema.builds_at(Version::R2015).contains(&"DialerBuild"));
        assert_eq!(schema.repair_tables().len(), 18);
        for table in &schema.tables {
            for fk in &table.foreign_keys {
                let parent = schema.table(&fk.parent).expect("fk parent");
                assert!(parent.column(&fk.parent_column).is_some_and(|c| c.key));
                let pos = |n: &str| schema.tables.iter().position(|t| t.name == n);
                assert!(pos(&parent.name) < pos(&table.name), "{}", table.name);
            }
        }
        for name in REPAIR_ORDER {
            let t = schema.table(name).unwrap();
            assert!(t.repair.is_some(), "{name}");
            assert!(!t.key().is_empty(), "{name}");
        }
        // Nulls tables have nullable keys in 3.0; dups tables do not.
        let ivr = schema.table("IVRInterval").unwrap();
        assert!(ivr.columns.iter().filter(|c| c.key).any(|c| !c.not_null));
    }

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("2015R1"), Some(Version::R2015));
        assert_eq!(Version::parse("2015 r1"), Some(Version::R2015));
        assert_eq!(Version::parse("3.0"), Some(Version::V30));
        assert_eq!(Version::parse("4.0"), None);
        assert!(Version::V30 < Version::R2015);
    }
}
