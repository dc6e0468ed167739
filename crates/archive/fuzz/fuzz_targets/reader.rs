//! cargo-fuzz target: arbitrary bytes as a migration file, through open, verify,
//! open_component and extract_all. Run with `cargo fuzz run reader` from
//! `crates/archive` (seed the corpus with a few real `.ininmigr` files).
#![no_main]

use libfuzzer_sys::fuzz_target;
use transit_archive::MigrationReader;

const PASSWORD: &str = "s3cret-Pässword";

fuzz_target!(|data: &[u8]| {
    let Ok(sandbox) = tempfile::tempdir() else {
        return;
    };
    let file = sandbox.path().join("f.ininmigr");
    if std::fs::write(&file, data).is_err() {
        return;
    }
    let temp = sandbox.path().join("temp");
    let out = sandbox.path().join("out").join("nested");
    if std::fs::create_dir_all(&temp).is_err() || std::fs::create_dir_all(&out).is_err() {
        return;
    }
    for password in [None, Some(PASSWORD)] {
        let Ok(mut reader) = MigrationReader::open(&file, password) else {
            continue;
        };
        let _ = reader.verify(&transit_core::NoProgress);
        let ids: Vec<String> = reader
            .manifest()
            .components
            .iter()
            .map(|c| c.id.clone())
            .collect();
        for (i, id) in ids.iter().enumerate() {
            if let Ok(mut component) = reader.open_component(id, &temp) {
                let _ = component.entry_paths();
                let dest = out.join(format!("{}-{i}", password.is_some()));
                if std::fs::create_dir_all(&dest).is_ok() {
                    let _ = component.extract_all(&dest);
                }
            }
        }
    }
    // Nothing may be written outside `out` (besides the input file).
    let mut stack = vec![sandbox.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                assert!(p == file || p.starts_with(&out), "escaped: {}", p.display());
            }
        }
    }
});
