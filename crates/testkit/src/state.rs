//! A server's observable state, for "nothing changed" and "exactly
//! restored" assertions.

use std::collections::BTreeMap;
use transit_registry::interop::export_reg;
use transit_registry::regfile::RegFormat;
use transit_registry::KeyPath;
use transit_server::ServerRoot;

/// A server's full registry export (REGEDIT5 bytes) and every file and
/// folder under `files/` (folders end in `/` and have no bytes).
pub type State = (Vec<u8>, BTreeMap<String, Vec<u8>>);

/// Reads a server's observable state.
pub fn state(root: &ServerRoot) -> State {
    let reg = root.open_registry().expect("registry opens");
    let (bytes, _) = export_reg(&reg, &KeyPath::root(), Vec::new(), RegFormat::Regedit5)
        .expect("registry exports");
    let mut files = BTreeMap::new();
    let mut stack = vec![root.files_dir()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("files readable") {
            let p = e.expect("entry").path();
            let rel = p
                .strip_prefix(root.dir())
                .expect("under the root")
                .display()
                .to_string();
            if p.is_dir() {
                files.insert(format!("{rel}/"), Vec::new());
                stack.push(p);
            } else {
                files.insert(rel, std::fs::read(&p).expect("file readable"));
            }
        }
    }
    (bytes, files)
}

fn utf16_text(bytes: &[u8]) -> String {
    String::from_utf16_lossy(
        &bytes
            .get(2..)
            .unwrap_or_default()
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
            .collect::<Vec<_>>(),
    )
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
        let (ta, tb) = (utf16_text(&a.0), utf16_text(&b.0));
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
