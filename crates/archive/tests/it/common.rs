//! Helpers shared by the behaviour tests.
#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use transit_archive::{
    component_entry_name, sha256_hex, ComponentBuilder, ComponentRecord, EntryRecord, ItemCounts,
    Manifest, MigrationWriter, MigratorInfo, SourceInfo, FORMAT_VERSION,
};
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipWriter};

pub const PASSWORD: &str = "s3cret-Pässword";
pub const REG_TEXT: &str = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Test]\r\n\"Name\"=\"Value\"\r\n";

pub fn manifest() -> Manifest {
    Manifest {
        format_version: FORMAT_VERSION,
        migrator: MigratorInfo {
            release: "2026 R1".into(),
            build: 42,
        },
        source: SourceInfo {
            server_name: "ic-primary".into(),
            site_name: "Main".into(),
            site_id: 1,
            role: "Primary".into(),
            product_release: "2015 R4".into(),
            patch: 12,
        },
        created_utc: "2026-11-23T10:00:00Z".into(),
        components: Vec::new(),
    }
}

pub fn file_content() -> Vec<u8> {
    (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect()
}

/// Writes a migration file with two components: "Users" (a stream entry) and
/// "IP\\Handlers" (a file entry).
pub fn write_sample(dir: &Path, name: &str, password: Option<&str>) -> PathBuf {
    let dest = dir.join(name);
    let src = dir.join(format!("{name}.handler.bin"));
    std::fs::write(&src, file_content()).unwrap();
    let mut w = MigrationWriter::create(&dest, password).unwrap();
    let mut b = ComponentBuilder::new("Users", dir).unwrap();
    b.add_stream("Users.reg", |out| out.write_all(REG_TEXT.as_bytes()))
        .unwrap();
    b.add_counts(1, 1);
    w.add_component(b.finish().unwrap(), &transit_core::NoProgress)
        .unwrap();
    let mut b = ComponentBuilder::new("IP\\Handlers", dir).unwrap();
    b.add_file("handlers/custom.bin", &src).unwrap();
    w.add_component(b.finish().unwrap(), &transit_core::NoProgress)
        .unwrap();
    w.finish(manifest()).unwrap();
    std::fs::remove_file(&src).unwrap();
    dest
}

/// An inner zip in memory holding `entries`.
pub fn inner_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        zip.start_file(
            *name,
            SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
        )
        .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A component record for `inner` whose entries are `entries` (path, bytes).
pub fn record_for(id: &str, inner: &[u8], entries: &[(&str, &[u8])]) -> ComponentRecord {
    ComponentRecord {
        id: id.into(),
        entry: component_entry_name(id),
        size: inner.len() as u64,
        sha256: sha256_hex(inner),
        counts: ItemCounts::default(),
        entries: entries
            .iter()
            .map(|(p, d)| EntryRecord {
                path: (*p).into(),
                size: d.len() as u64,
                sha256: sha256_hex(d),
            })
            .collect(),
    }
}

/// Writes an outer zip directly: `extra` entries (name, bytes, encrypted) then the
/// manifest JSON (encrypted when `password` is set).
pub fn craft(
    path: &Path,
    password: Option<&str>,
    manifest_json: Option<&[u8]>,
    extra: &[(&str, &[u8])],
) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = ZipWriter::new(file);
    let opts = |method| {
        let o = SimpleFileOptions::default().compression_method(method);
        match password {
            Some(p) => o.with_aes_encryption(AesMode::Aes256, p),
            None => o,
        }
    };
    for (name, data) in extra {
        zip.start_file(*name, opts(CompressionMethod::Stored))
            .unwrap();
        zip.write_all(data).unwrap();
    }
    if let Some(json) = manifest_json {
        zip.start_file("manifest.json", opts(CompressionMethod::Deflated))
            .unwrap();
        zip.write_all(json).unwrap();
    }
    zip.finish().unwrap();
}

/// A migration file with one component "C" whose inner zip holds `entries`, and
/// whose manifest records are as given.
pub fn craft_component(
    path: &Path,
    password: Option<&str>,
    inner: &[u8],
    record: &ComponentRecord,
) {
    let mut m = manifest();
    m.components = vec![record.clone()];
    let json = serde_json::to_vec_pretty(&m).unwrap();
    craft(
        path,
        password,
        Some(&json),
        &[(record.entry.as_str(), inner)],
    );
}

/// Every file below `dir`, recursively.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
    }
    out
}
