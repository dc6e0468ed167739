//! Mutation fuzzing of the reader: damaged migration files must give an
//! `ArchiveError` (or Ok), never a panic, and never a write outside the temp dir.
//!
//! 256 cases by default; set `PROPTEST_CASES` to run longer (proptest's default
//! configuration reads it).

use std::path::Path;
use std::sync::OnceLock;

use crate::common::*;
use proptest::prelude::*;
use transit_archive::MigrationReader;

fn sample(encrypted: bool) -> &'static [u8] {
    static PLAIN: OnceLock<Vec<u8>> = OnceLock::new();
    static ENC: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = if encrypted { &ENC } else { &PLAIN };
    cell.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let pw = encrypted.then_some(PASSWORD);
        let path = write_sample(dir.path(), "s.ininmigr", pw);
        std::fs::read(path).unwrap()
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Overwrite { at: usize, bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1u8..=255).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        2 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        2 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Overwrite { at, bytes }),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    if data.is_empty() {
        return;
    }
    let len = data.len();
    match m {
        Mutation::Flip { at, xor } => data[at % len] ^= xor,
        Mutation::Truncate { at } => data.truncate(at % len),
        Mutation::Insert { at, bytes } => {
            let at = at % (len + 1);
            data.splice(at..at, bytes.iter().copied());
        }
        Mutation::Overwrite { at, bytes } => {
            for (i, b) in bytes.iter().enumerate() {
                if let Some(slot) = data.get_mut((at + i) % len) {
                    *slot = *b;
                }
            }
        }
    }
}

/// Runs the reader sequence; every error must be an `ArchiveError` (the type
/// system ensures that), and panics fail the test.
fn exercise(path: &Path, password: Option<&str>, temp: &Path, out: &Path) {
    let Ok(mut reader) = MigrationReader::open(path, password) else {
        return;
    };
    let _ = reader.verify(&transit_core::NoProgress);
    let ids: Vec<String> = reader
        .manifest()
        .components
        .iter()
        .map(|c| c.id.clone())
        .collect();
    for (i, id) in ids.iter().enumerate() {
        if let Ok(mut component) = reader.open_component(id, temp) {
            let _ = component.entry_paths();
            let dest = out.join(i.to_string());
            std::fs::create_dir_all(&dest).unwrap();
            let _ = component.extract_all(&dest);
        }
    }
}

fn run_case(encrypted: bool, mutations: &[Mutation]) {
    let mut data = sample(encrypted).to_vec();
    for m in mutations {
        apply(&mut data, m);
    }
    let sandbox = tempfile::tempdir().unwrap();
    let file = sandbox.path().join("f.ininmigr");
    std::fs::write(&file, &data).unwrap();
    let temp = sandbox.path().join("temp");
    let out = sandbox.path().join("out").join("nested");
    std::fs::create_dir_all(&temp).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    exercise(&file, encrypted.then_some(PASSWORD), &temp, &out);
    for p in files_below(sandbox.path()) {
        assert!(
            p == file || p.starts_with(&out),
            "file written outside the extraction dir: {}",
            p.display()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn mutated_plain_file_never_panics(mutations in proptest::collection::vec(mutation(), 1..4)) {
        run_case(false, &mutations);
    }

    #[test]
    fn mutated_encrypted_file_never_panics(mutations in proptest::collection::vec(mutation(), 1..4)) {
        run_case(true, &mutations);
    }
}

#[test]
fn unmutated_samples_extract() {
    for encrypted in [false, true] {
        run_case(encrypted, &[]);
    }
}
