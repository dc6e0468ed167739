//! `transit_migrator::diff`: the merge, the region walk, file comparison
//! and whole comparisons of real demo servers, migration files and `.reg`
//! files. Tests sit in `diff_*` modules, so `cargo test -p
//! transit-migrator diff` runs them all.

use std::path::{Path, PathBuf};
use transit_core::CancelToken;
use transit_migrator::diff::files::{compare, Listed};
use transit_migrator::diff::merge::{diff_values, merge_keys, KeyEntry};
use transit_migrator::diff::walk::RegionWalk;
use transit_migrator::diff::{
    self, Counts, DiffError, DiffOptions, DiffSink, DiffSummary, FileChange, FileDiff, FilesStatus,
    GroupInfo, GroupStatus, KeyChange, KeyDiff, Password, SideInfo, SideKind, ValueDiff,
    OTHER_GROUP,
};
use transit_migrator::{export, ExportPlan};
use transit_registry::interop::export_reg;
use transit_registry::regfile::RegFormat;
use transit_registry::{KeyPath, NamedValue, Registry, RegistryRead, ValueData};
use transit_server::ServerRoot;
use transit_testkit::Sample;

// ---- helpers ------------------------------------------------------------

fn nv(name: &str, data: ValueData) -> NamedValue {
    NamedValue {
        name: name.into(),
        data,
    }
}

fn entry(sort: &str, values: Vec<NamedValue>) -> KeyEntry {
    KeyEntry {
        sort: sort.replace('\\', "\u{1}").to_lowercase(),
        name: sort.trim_start_matches('\\').to_string(),
        values,
    }
}

fn merged(a: Vec<KeyEntry>, b: Vec<KeyEntry>) -> Result<Vec<KeyDiff>, DiffError> {
    let mut out = Vec::new();
    merge_keys(
        a.into_iter().map(Ok),
        b.into_iter().map(Ok),
        "{ds}\\Users",
        &mut |d| {
            out.push(d);
            Ok(())
        },
    )?;
    Ok(out)
}

fn demo(dir: &Path, name: &str, site: &str, users: u64) -> ServerRoot {
    Sample::cic(name)
        .site(site, 1)
        .release("2015 R1")
        .users(users)
        .seed(5)
        .demo(dir)
}

fn export_file(root: &ServerRoot, folder: &Path, components: &[&str], pw: Option<&str>) -> PathBuf {
    let plan = ExportPlan {
        components: components.iter().map(|s| s.to_string()).collect(),
        folder: folder.to_path_buf(),
        handlers: None,
        password: pw.map(secrecy::SecretString::from),
        threads: Some(2),
        dialer_package: true,
    };
    export(root, &plan, &|_| {}, &CancelToken::new())
        .unwrap()
        .path
}

fn export_reg_file(root: &ServerRoot, out: &Path) {
    let reg = root.open_registry().unwrap();
    let file = std::fs::File::create(out).unwrap();
    export_reg(&reg, &KeyPath::root(), file, RegFormat::Regedit5).unwrap();
}

fn users_key(root: &ServerRoot) -> KeyPath {
    root.ds_container("Users")
}

/// The first two users of a server.
fn two_users(root: &ServerRoot) -> (String, String) {
    let reg = root.open_registry().unwrap();
    let names = reg.subkeys(&users_key(root)).unwrap();
    (names[0].clone(), names[1].clone())
}

/// A sink that keeps everything, per group.
#[derive(Default)]
struct Collect {
    notes: Vec<String>,
    sides: Vec<SideInfo>,
    groups: Vec<(GroupInfo, Vec<KeyDiff>, Vec<FileDiff>, Counts)>,
    finished: bool,
}

impl Collect {
    fn group(&self, id: &str) -> &(GroupInfo, Vec<KeyDiff>, Vec<FileDiff>, Counts) {
        self.groups
            .iter()
            .find(|g| g.0.id == id)
            .unwrap_or_else(|| panic!("no group {id}"))
    }

    fn keys(&self, id: &str) -> &[KeyDiff] {
        &self.group(id).1
    }

    fn differing(&self) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|g| !g.3.is_zero() || g.0.status != GroupStatus::Compared)
            .map(|g| g.0.id.as_str())
            .collect()
    }
}

impl DiffSink for Collect {
    fn begin(&mut self, a: &SideInfo, b: &SideInfo, notes: &[String]) -> std::io::Result<()> {
        self.sides = vec![a.clone(), b.clone()];
        self.notes = notes.to_vec();
        Ok(())
    }
    fn group(&mut self, group: &GroupInfo) -> std::io::Result<()> {
        self.groups
            .push((group.clone(), Vec::new(), Vec::new(), Counts::default()));
        Ok(())
    }
    fn key(&mut self, diff: &KeyDiff) -> std::io::Result<()> {
        self.groups.last_mut().unwrap().1.push(diff.clone());
        Ok(())
    }
    fn file(&mut self, diff: &FileDiff) -> std::io::Result<()> {
        self.groups.last_mut().unwrap().2.push(diff.clone());
        Ok(())
    }
    fn end_group(&mut self, group: &GroupInfo, counts: &Counts) -> std::io::Result<()> {
        let last = self.groups.last_mut().unwrap();
        assert_eq!(last.0, *group);
        last.3 = *counts;
        Ok(())
    }
    fn finish(&mut self, _: &DiffSummary) -> std::io::Result<()> {
        self.finished = true;
        Ok(())
    }
}

fn run(a: &Path, b: &Path, options: &DiffOptions) -> (DiffSummary, Collect) {
    let mut sink = Collect::default();
    let summary = diff::diff(a, b, options, &mut sink).unwrap();
    assert!(sink.finished);
    (summary, sink)
}

// ---- the merge ------------------------------------------------------------

mod diff_merge {
    use super::*;

    #[test]
    fn merge_finds_added_removed_and_changed_keys_in_order() {
        let a = vec![
            entry("", vec![]),
            entry("\\alice", vec![nv("Title", ValueData::Sz("Agent".into()))]),
            entry("\\bob", vec![nv("Title", ValueData::Sz("Agent".into()))]),
            entry("\\carol", vec![nv("Ext", ValueData::Sz("100".into()))]),
        ];
        let b = vec![
            entry("", vec![]),
            entry("\\alice", vec![nv("Title", ValueData::Sz("Agent".into()))]),
            entry("\\alice\\sub", vec![]),
            entry("\\carol", vec![nv("Ext", ValueData::Sz("101".into()))]),
            entry("\\dave", vec![nv("Title", ValueData::Sz("New".into()))]),
        ];
        let diffs = merged(a, b).unwrap();
        let summary: Vec<(String, &str)> = diffs
            .iter()
            .map(|d| {
                let kind = match d.change {
                    KeyChange::Added(_) => "added",
                    KeyChange::Removed(_) => "removed",
                    KeyChange::Changed(_) => "changed",
                };
                (d.key.clone(), kind)
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("{ds}\\Users\\alice\\sub".to_string(), "added"),
                ("{ds}\\Users\\bob".to_string(), "removed"),
                ("{ds}\\Users\\carol".to_string(), "changed"),
                ("{ds}\\Users\\dave".to_string(), "added"),
            ]
        );
        assert_eq!(
            diffs[1].change,
            KeyChange::Removed(vec![nv("Title", ValueData::Sz("Agent".into()))])
        );
        assert_eq!(
            diffs[2].change,
            KeyChange::Changed(vec![ValueDiff::Changed {
                name: "Ext".into(),
                old: ValueData::Sz("100".into()),
                new: ValueData::Sz("101".into()),
            }])
        );
    }

    #[test]
    fn value_type_changes_and_added_and_removed_values_are_reported() {
        let old = vec![
            nv("", ValueData::Sz("default".into())),
            nv("Gone", ValueData::Dword(1)),
            nv("Port", ValueData::Sz("5060".into())),
            nv("Same", ValueData::MultiSz(vec!["a".into()])),
        ];
        let new = vec![
            nv("", ValueData::Sz("default".into())),
            nv("Fresh", ValueData::Binary(vec![1, 2])),
            nv("Port", ValueData::Dword(5060)),
            nv("SAME", ValueData::MultiSz(vec!["a".into()])),
        ];
        assert_eq!(
            diff_values(old, new),
            vec![
                ValueDiff::Added(nv("Fresh", ValueData::Binary(vec![1, 2]))),
                ValueDiff::Removed(nv("Gone", ValueData::Dword(1))),
                ValueDiff::Changed {
                    name: "Port".into(),
                    old: ValueData::Sz("5060".into()),
                    new: ValueData::Dword(5060),
                },
            ]
        );
        // Same bytes, different kind: still a change.
        let d = diff_values(
            vec![nv("x", ValueData::Sz("a".into()))],
            vec![nv("x", ValueData::ExpandSz("a".into()))],
        );
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn a_stream_out_of_order_is_an_error_not_a_wrong_report() {
        let a = vec![entry("\\b", vec![]), entry("\\a", vec![])];
        match merged(a, vec![]) {
            Err(DiffError::Unordered { side: 'A', key }) => assert_eq!(key, "{ds}\\Users\\a"),
            other => panic!("{other:?}"),
        }
        let b = vec![entry("\\a", vec![]), entry("\\a", vec![])];
        assert!(matches!(
            merged(vec![], b),
            Err(DiffError::Unordered { side: 'B', .. })
        ));
    }
}

// ---- the region walk ------------------------------------------------------

mod diff_walk {
    use super::*;

    #[test]
    fn region_walk_skips_excluded_subtrees_and_stays_in_sort_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        let mut reg = Registry::open(&db).unwrap();
        let mut txn = reg.write().unwrap();
        for (path, n) in [
            ("EIC\\A", 1),
            ("EIC\\A\\Big", 2),
            ("EIC\\A\\Big\\deep", 3),
            ("EIC\\A!", 4),
            ("EIC\\a\\Small", 5),
            ("EIC\\B", 6),
            ("Other", 7),
        ] {
            txn.set_value(&KeyPath::parse(path).unwrap(), "n", &ValueData::Dword(n))
                .unwrap();
        }
        txn.commit().unwrap();
        let excluded = [KeyPath::parse("eic\\a\\big").unwrap()];
        let walked: Vec<(String, String)> =
            RegionWalk::new(&reg, &db, Some(&KeyPath::root()), &excluded)
                .map(|e| {
                    let e = e.unwrap();
                    (e.name, e.sort)
                })
                .collect();
        let names: Vec<&str> = walked.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "",
                "EIC",
                "EIC\\A",
                "EIC\\A\\Small",
                "EIC\\A!",
                "EIC\\B",
                "Other"
            ]
        );
        assert!(walked.windows(2).all(|w| w[0].1 < w[1].1), "{walked:?}");

        // Relative to a top key, and a missing top yields nothing.
        let top = KeyPath::parse("EIC\\A").unwrap();
        let rel: Vec<String> = RegionWalk::new(&reg, &db, Some(&top), &[])
            .map(|e| e.unwrap().name)
            .collect();
        assert_eq!(rel, ["", "Big", "Big\\deep", "Small"]);
        let missing = KeyPath::parse("Nope").unwrap();
        assert_eq!(
            RegionWalk::new(&reg, &db, Some(&missing), &excluded).count(),
            0
        );
        assert_eq!(RegionWalk::new(&reg, &db, None, &[]).count(), 0);
    }
}

// ---- files ------------------------------------------------------------------

mod diff_files {
    use super::*;

    #[test]
    fn files_compare_by_size_then_sha256_and_hash_only_what_is_needed() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            p
        };
        let root_file = |path: &str, source: PathBuf| Listed {
            path: path.into(),
            size: std::fs::metadata(&source).unwrap().len(),
            sha256: None,
            source: Some(source),
        };
        let a = vec![
            root_file("files/a.txt", write("a1", b"same")),
            root_file("files/b.txt", write("b1", b"abcd")),
            root_file("files/c.txt", write("c1", b"short")),
            root_file("files/gone.txt", write("g1", b"x")),
        ];
        let manifest = |path: &str, body: &[u8]| Listed {
            path: path.into(),
            size: body.len() as u64,
            sha256: Some(transit_archive::sha256_hex(body)),
            source: None,
        };
        let b = vec![
            manifest("files/a.txt", b"same"),
            manifest("files/b.txt", b"abce"),
            manifest("files/c.txt", b"longer"),
            manifest("files/new.txt", b"n"),
        ];
        let mut out = Vec::new();
        compare(a, b, 2, &mut |d| {
            out.push(d);
            Ok(())
        })
        .unwrap();
        let paths: Vec<&str> = out.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "files/b.txt",
                "files/c.txt",
                "files/gone.txt",
                "files/new.txt"
            ]
        );
        match &out[0].change {
            FileChange::Changed { old, new } => {
                assert_eq!(
                    old.sha256.as_deref(),
                    Some(transit_archive::sha256_hex(b"abcd").as_str())
                );
                assert_ne!(old.sha256, new.sha256);
            }
            other => panic!("{other:?}"),
        }
        // Different sizes differ without hashing the root's file.
        match &out[1].change {
            FileChange::Changed { old, new } => {
                assert_eq!((old.size, new.size), (5, 6));
                assert_eq!(old.sha256, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(out[2].change, FileChange::Removed(_)));
        assert!(matches!(out[3].change, FileChange::Added(_)));
    }
}

// ---- whole comparisons ------------------------------------------------------

mod diff_whole {
    use super::*;

    #[test]
    fn a_root_equals_its_own_export_and_reg_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = demo(&dir.path().join("server"), "CIC01", "Indy", 15);
        let file = export_file(&root, &dir.path().join("out"), &["all"], None);
        let (summary, sink) = run(root.dir(), &file, &DiffOptions::default());
        assert!(summary.equal, "{:?}", sink.differing());
        assert!(summary.total.is_zero());
        assert_eq!(sink.sides[1].kind, SideKind::MigrationFile);
        // A migration file holds only components: no other group.
        assert!(sink.groups.iter().all(|g| g.0.id != OTHER_GROUP));
        // Files were compared for the file-carrying components.
        assert_eq!(
            sink.group("Prompts and Resources").0.files,
            FilesStatus::Compared
        );

        let reg = dir.path().join("all.reg");
        export_reg_file(&root, &reg);
        let (summary, sink) = run(&reg, root.dir(), &DiffOptions::default());
        assert!(summary.equal, "{:?}", sink.differing());
        assert_eq!(sink.sides[0].kind, SideKind::RegFile);
        assert_eq!(sink.sides[0].server.as_deref(), Some("CIC01"));
        assert!(sink.groups.iter().any(|g| g.0.id == OTHER_GROUP));
        assert!(matches!(
            sink.group("Prompts and Resources").0.files,
            FilesStatus::Skipped(_)
        ));
        assert!(sink.notes.iter().any(|n| n.contains("holds no files")));
    }

    #[test]
    fn changes_show_up_under_their_component_with_old_and_new_values() {
        let dir = tempfile::tempdir().unwrap();
        let root = demo(&dir.path().join("server"), "CIC01", "Indy", 15);
        let before = export_file(&root, &dir.path().join("out"), &["all"], None);
        let (changed, deleted) = two_users(&root);
        let users = users_key(&root);
        let old_title = root
            .open_registry()
            .unwrap()
            .require_value(&users.join(&changed).unwrap(), "Title")
            .unwrap();
        {
            let mut reg = root.open_registry().unwrap();
            let mut txn = reg.write().unwrap();
            let user = users.join(&changed).unwrap();
            txn.set_value(&user, "Title", &ValueData::Sz("Chief".into()))
                .unwrap();
            txn.set_value(&user, "Extension", &ValueData::Dword(42))
                .unwrap();
            txn.delete_key(&users.join(&deleted).unwrap()).unwrap();
            txn.set_value(
                &KeyPath::parse("EIC\\Custom").unwrap(),
                "x",
                &ValueData::Dword(1),
            )
            .unwrap();
            txn.commit().unwrap();
        }
        let prompt = root.files_dir().join("Resources/Prompts/zz-new.wav");
        std::fs::create_dir_all(prompt.parent().unwrap()).unwrap();
        std::fs::write(&prompt, b"RIFF").unwrap();

        // The migration file is A (before), the root B (after).
        let (summary, sink) = run(&before, root.dir(), &DiffOptions::default());
        assert!(!summary.equal);
        assert_eq!(sink.differing(), ["Users", "Prompts and Resources"]);
        let keys = sink.keys("Users");
        let changed_key = format!("{{ds}}\\Users\\{changed}");
        let c = keys.iter().find(|k| k.key == changed_key).unwrap();
        match &c.change {
            KeyChange::Changed(values) => {
                assert!(values.contains(&ValueDiff::Changed {
                    name: "Title".into(),
                    old: old_title.clone(),
                    new: ValueData::Sz("Chief".into()),
                }));
                // A type change: the demo's extension is a string.
                assert!(values.iter().any(|v| matches!(v,
                ValueDiff::Changed { name, old: ValueData::Sz(_), new: ValueData::Dword(42) } if name == "Extension")));
            }
            other => panic!("{other:?}"),
        }
        let gone = format!("{{ds}}\\Users\\{deleted}");
        let d = keys.iter().find(|k| k.key == gone).unwrap();
        assert!(matches!(&d.change, KeyChange::Removed(values) if !values.is_empty()));
        let counts = sink.group("Users").3;
        assert_eq!((counts.keys_removed, counts.keys_changed), (1, 1));
        assert_eq!(counts.values_changed, 2);

        let files = &sink.group("Prompts and Resources").2;
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "files/Resources/Prompts/zz-new.wav");
        assert_eq!(
            files[0].change,
            FileChange::Added(transit_migrator::diff::FileInfo {
                size: 4,
                sha256: None
            })
        );
        assert_eq!(summary.total.files_added, 1);

        // Root against its own .reg export from before: the key outside every
        // component shows up in the other group, and only there.
        let reg = dir.path().join("after.reg");
        export_reg_file(&root, &reg);
        let fresh = demo(&dir.path().join("fresh"), "CIC01", "Indy", 15);
        let (_, sink) = run(fresh.dir(), &reg, &DiffOptions::default());
        let other = sink.keys(OTHER_GROUP);
        assert_eq!(other.len(), 1, "{other:?}");
        assert_eq!(other[0].key, "EIC\\Custom");
        assert!(matches!(other[0].change, KeyChange::Added(_)));

        // --components limits the comparison.
        let options = DiffOptions {
            components: Some(vec!["users".into()]),
            ..DiffOptions::default()
        };
        let (summary, sink) = run(&before, root.dir(), &options);
        assert_eq!(sink.groups.len(), 1);
        assert_eq!(sink.groups[0].0.id, "Users");
        assert_eq!(summary.total.files_added, 0);
    }

    #[test]
    fn servers_with_different_names_line_up_per_component() {
        let dir = tempfile::tempdir().unwrap();
        let a = demo(&dir.path().join("a"), "CIC01", "Indy", 10);
        let b = demo(&dir.path().join("b"), "CIC02", "Indy", 10);
        let (summary, sink) = run(a.dir(), b.dir(), &DiffOptions::default());
        assert!(!summary.equal);
        // Same seed, same users: no user key is added or removed even though
        // the DS paths differ; only values naming the server change.
        let users = sink.group("Users").3;
        assert_eq!((users.keys_added, users.keys_removed), (0, 0));
        let params = sink.keys("Server Parameters");
        assert!(params.iter().any(|k| k.key == "{ds}\\Server Parameters\\Server Name"
        && matches!(&k.change, KeyChange::Changed(v) if v.iter().any(|v| matches!(v,
            ValueDiff::Changed { old: ValueData::Sz(o), new: ValueData::Sz(n), .. } if o == "CIC01" && n == "CIC02")))));
        // The server-specific keys outside components compare relatively too.
        let other = sink.keys(OTHER_GROUP);
        assert!(
            other
                .iter()
                .all(|k| !k.key.contains("CIC01") && !k.key.contains("CIC02")),
            "{other:?}"
        );
    }

    /// Records progress events.
    #[derive(Default)]
    struct Events(std::sync::Mutex<Vec<transit_core::Event>>);

    impl transit_core::Progress for Events {
        fn event(&self, e: transit_core::Event) {
            self.0.lock().unwrap().push(e);
        }
    }

    #[test]
    fn progress_counts_the_groups_and_a_cancel_stops_the_comparison() {
        use transit_core::Event;
        let dir = tempfile::tempdir().unwrap();
        let a = demo(&dir.path().join("a"), "CIC01", "Indy", 10);
        let b = demo(&dir.path().join("b"), "CIC02", "Indy", 10);
        let events = Events::default();
        let mut sink = Collect::default();
        let summary = diff::diff_with(
            a.dir(),
            b.dir(),
            &DiffOptions::default(),
            &mut sink,
            &events,
            &CancelToken::new(),
        )
        .unwrap();
        let events = events.0.into_inner().unwrap();
        let groups = summary.groups.len() as u64;
        assert!(groups > 5, "{groups}");
        assert!(
            matches!(&events[0], Event::Begin { task, total: Some(n), .. } if task == "compare" && *n == groups)
        );
        let advances: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                Event::Advance { done, .. } => Some(*done),
                _ => None,
            })
            .collect();
        assert_eq!(advances, (1..=groups).collect::<Vec<_>>());
        assert!(events
            .iter()
            .any(|e| matches!(e, Event::Status { text, .. } if text == "Users")));
        assert!(matches!(events.last(), Some(Event::End { .. })));
        // Cancelled before it starts: no group is compared, nothing finishes.
        let cancel = CancelToken::new();
        cancel.cancel();
        let mut sink = Collect::default();
        let err = diff::diff_with(
            a.dir(),
            b.dir(),
            &DiffOptions::default(),
            &mut sink,
            &transit_core::NoProgress,
            &cancel,
        )
        .unwrap_err();
        assert!(matches!(err, DiffError::Cancelled), "{err}");
        assert_eq!(
            transit_core::Kind::kind(&err),
            transit_core::ErrorKind::Cancelled
        );
        assert!(sink.groups.is_empty() && !sink.finished);
    }

    #[test]
    fn two_migration_files_with_different_components_and_passwords() {
        let dir = tempfile::tempdir().unwrap();
        let root = demo(&dir.path().join("server"), "CIC01", "Indy", 10);
        let all = export_file(&root, &dir.path().join("o1"), &["all"], Some("one"));
        let users = export_file(&root, &dir.path().join("o2"), &["Users"], Some("two"));
        let options = DiffOptions {
            password_a: Password::Exact("one".into()),
            password_b: Password::Exact("two".into()),
            ..DiffOptions::default()
        };
        let (summary, sink) = run(&all, &users, &options);
        assert!(!summary.equal);
        assert_eq!(sink.group("Users").0.status, GroupStatus::Compared);
        assert!(sink.group("Users").3.is_zero());
        assert_eq!(sink.group("Roles").0.status, GroupStatus::OnlyInA);

        // The same file twice is equal; a wrong password is the archive's error.
        let same = DiffOptions {
            password_a: Password::IfEncrypted("two".into()),
            password_b: Password::IfEncrypted("two".into()),
            ..DiffOptions::default()
        };
        assert!(run(&users, &users, &same).0.equal);
        let wrong = DiffOptions {
            password_b: Password::Exact("nope".into()),
            ..same
        };
        let err = diff::diff(root.dir(), &users, &wrong, &mut Collect::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DiffError::Archive(transit_archive::ArchiveError::WrongPassword { .. })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn bad_sides_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let root = demo(&dir.path().join("server"), "CIC01", "Indy", 3);
        let check = |path: &Path| {
            diff::diff(
                root.dir(),
                path,
                &DiffOptions::default(),
                &mut Collect::default(),
            )
        };
        assert!(matches!(
            check(&dir.path().join("missing")),
            Err(DiffError::Missing { .. })
        ));
        std::fs::create_dir(dir.path().join("plain")).unwrap();
        assert!(matches!(
            check(&dir.path().join("plain")),
            Err(DiffError::UnknownKind { .. })
        ));
        std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
        assert!(matches!(
            check(&dir.path().join("notes.txt")),
            Err(DiffError::UnknownKind { .. })
        ));
        let bad = dir.path().join("bad.reg");
        std::fs::write(
        &bad,
        "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC]\r\n\"a\"=dword:nothex\r\n",
    )
    .unwrap();
        match check(&bad) {
            Err(e @ DiffError::Registry { .. }) => {
                let source = std::error::Error::source(&e).unwrap().to_string();
                assert!(source.contains("line 4"), "{source}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn notes_say_what_the_comparison_cannot_vouch_for() {
        let dir = tempfile::tempdir().unwrap();
        let root = demo(&dir.path().join("server"), "CIC01", "Indy", 5);
        // A .reg file holding the DS keys of two servers is compared as
        // the one the other side names.
        let reg = dir.path().join("two.reg");
        export_reg_file(&root, &reg);
        let mut text = std::fs::read(&reg).unwrap();
        let extra = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC\\Directory Services\\Root\\Indy\\Production\\AAA]\r\n\r\n";
        text.extend(extra.encode_utf16().flat_map(u16::to_le_bytes));
        std::fs::write(&reg, text).unwrap();
        let (_, sink) = run(root.dir(), &reg, &DiffOptions::default());
        assert_eq!(sink.sides[1].server.as_deref(), Some("CIC01"));
        assert!(
            sink.notes
                .iter()
                .any(|n| n.contains("DS keys of 2 servers") && n.contains("compared as CIC01")),
            "{:?}",
            sink.notes
        );
        // The other server's key is outside every component of CIC01.
        assert_eq!(sink.keys(OTHER_GROUP).len(), 1);

        // An import journal on a root: the root may be half imported.
        std::fs::create_dir_all(root.run_dir()).unwrap();
        std::fs::write(root.run_dir().join("import.journal"), "{}").unwrap();
        let (summary, sink) = run(root.dir(), root.dir(), &DiffOptions::default());
        assert!(summary.equal);
        assert_eq!(
            sink.notes
                .iter()
                .filter(|n| n.contains("import journal"))
                .count(),
            2
        );
    }

    #[test]
    fn servers_of_different_roles_are_not_compared() {
        let dir = tempfile::tempdir().unwrap();
        let cic = demo(&dir.path().join("cic"), "CIC01", "Indy", 2);
        let media = Sample::media("MS01")
            .site("Indy", 1)
            .release("2015 R1")
            .users(2)
            .seed(1)
            .demo(&dir.path().join("media"));
        let err = diff::diff(
            cic.dir(),
            media.dir(),
            &DiffOptions::default(),
            &mut Collect::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&err, DiffError::RoleMismatch { a, b } if a == "cic" && b == "media"),
            "{err:?}"
        );
        // Two media servers compare with the media catalog.
        let (summary, sink) = run(media.dir(), media.dir(), &DiffOptions::default());
        assert!(summary.equal);
        assert!(sink.groups.iter().all(|g| g.0.id != "Users"));
    }
}
