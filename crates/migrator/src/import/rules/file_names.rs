//! `rename-server-site` inside files: in migration mode, a file of a
//! component the catalog tags with `rename-server-site` (the LRA
//! configuration, a Media Server's `mediaserver.xml`) has the source's
//! server and site names replaced by the target's, as whole words, like
//! the registry values of those components. The reference: "Consider
//! server name and site name changes when moving data from one server to
//! another. Interaction Migrator changes the data at run time before it
//! imports the data into the new server."
//!
//! Only text is rewritten: UTF-8 (with or without a byte-order mark) and
//! UTF-16LE with a byte-order mark. Other bytes are left as they are.

use super::rename_server_site::replace_word;
use super::Names;

/// The rule ID the catalog names and the report counts.
pub const ID: &str = "rename-server-site";

/// Files larger than this are not rewritten (configuration files are small).
pub const MAX_REWRITE: u64 = 16 * 1024 * 1024;

/// A rewrite of one file: its new bytes and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The new content.
    pub bytes: Vec<u8>,
    /// What changed, such as `server CIC01 → CIC02`.
    pub changes: Vec<String>,
}

fn rename_text(text: &str, source: &Names, target: &Names) -> Option<(String, Vec<String>)> {
    let mut changes = Vec::new();
    let mut current = text.to_string();
    for (what, from, to) in [
        ("server", &source.server, &target.server),
        ("site", &source.site, &target.site),
    ] {
        if let Some(next) = replace_word(&current, from, to) {
            changes.push(format!("{what} {from} → {to}"));
            current = next;
        }
    }
    (!changes.is_empty()).then_some((current, changes))
}

/// Rewrites the server and site names in a text file's bytes; `None` when
/// nothing changes or the bytes are not text.
pub fn rewrite(bytes: &[u8], source: &Names, target: &Names) -> Option<Rewritten> {
    const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
    const UTF16_BOM: &[u8] = &[0xFF, 0xFE];
    if let Some(body) = bytes.strip_prefix(UTF16_BOM) {
        if body.len() % 2 != 0 {
            return None;
        }
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let text = String::from_utf16(&units).ok()?;
        let (new, changes) = rename_text(&text, source, target)?;
        let mut out = UTF16_BOM.to_vec();
        out.extend(new.encode_utf16().flat_map(u16::to_le_bytes));
        return Some(Rewritten {
            bytes: out,
            changes,
        });
    }
    let (bom, body) = match bytes.strip_prefix(UTF8_BOM) {
        Some(body) => (UTF8_BOM, body),
        None => (&[][..], bytes),
    };
    let text = std::str::from_utf8(body).ok()?;
    if text.contains('\0') {
        return None;
    }
    let (new, changes) = rename_text(text, source, target)?;
    let mut out = bom.to_vec();
    out.extend_from_slice(new.as_bytes());
    Some(Rewritten {
        bytes: out,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{source, target};
    use super::*;

    #[test]
    fn the_lra_configuration_gets_the_targets_names() {
        let lra = b"<?xml version=\"1.0\"?>\r\n<LRA Server=\"CICA\" Site=\"Indy\">\r\n</LRA>\r\n";
        let done = rewrite(lra, &source(), &target()).unwrap();
        assert_eq!(
            String::from_utf8(done.bytes).unwrap(),
            "<?xml version=\"1.0\"?>\r\n<LRA Server=\"CICB\" Site=\"Paris\">\r\n</LRA>\r\n"
        );
        assert_eq!(done.changes, ["server CICA → CICB", "site Indy → Paris"]);
    }

    #[test]
    fn utf16_text_is_rewritten_and_binary_is_left_alone() {
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            "<MediaServer name=\"CICA\"/>"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let done = rewrite(&utf16, &source(), &target()).unwrap();
        let units: Vec<u16> = done.bytes[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(
            String::from_utf16(&units).unwrap(),
            "<MediaServer name=\"CICB\"/>"
        );
        assert_eq!(rewrite(b"CICA\0\x01\x02", &source(), &target()), None);
        assert_eq!(rewrite(&[0xC3, 0x28, b'C'], &source(), &target()), None);
        assert_eq!(rewrite(b"CICAB only", &source(), &target()), None);
    }
}
