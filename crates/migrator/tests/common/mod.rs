//! Helpers shared by the migrator's behaviour tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use transit_registry::interop::export_reg;
use transit_registry::regfile::RegFormat;
use transit_registry::KeyPath;
use transit_server::ServerRoot;

/// A server's observable state: its full registry export and every file
/// (and folder) under `files/` with its bytes.
pub type State = (Vec<u8>, BTreeMap<String, Vec<u8>>);

/// Reads a server's observable state.
pub fn state(root: &ServerRoot) -> State {
    let reg = root.open_registry().unwrap();
    let (bytes, _) = export_reg(&reg, &KeyPath::root(), Vec::new(), RegFormat::Regedit5).unwrap();
    let mut files = BTreeMap::new();
    let mut stack = vec![root.files_dir()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root.dir()).unwrap().display().to_string();
            if p.is_dir() {
                files.insert(format!("{rel}/"), Vec::new());
                stack.push(p);
            } else {
                files.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    (bytes, files)
}

/// Compares two states and names the first difference (never dumps bytes).
pub fn assert_same(a: &State, b: &State) {
    for (path, bytes) in &a.1 {
        assert!(
            b.1.get(path) == Some(bytes),
            "file {path} differs or is missing"
        );
    }
    for path in b.1.keys() {
        assert!(a.1.contains_key(path), "extra file {path}");
    }
    if a.0 != b.0 {
        let ta = String::from_utf16_lossy(
            &a.0[2..]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        );
        let tb = String::from_utf16_lossy(
            &b.0[2..]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        );
        let (la, lb): (Vec<_>, Vec<_>) = (ta.lines().collect(), tb.lines().collect());
        let at = la
            .iter()
            .zip(&lb)
            .position(|(x, y)| x != y)
            .unwrap_or(la.len().min(lb.len()));
        panic!(
            "registries differ at line {at}: {:?} vs {:?} ({} vs {} lines)",
            la.get(at),
            lb.get(at),
            la.len(),
            lb.len()
        );
    }
}
