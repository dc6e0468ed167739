//! Bundles: build, verify, and every refusal with its own error.

use crate::common::{manifest, patch3, payload, Fixture};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use transit_core::{CancelToken, ErrorKind, Kind, NoProgress};
use transit_update::bundle::{self, BundleError};
use transit_update::keys::SigningKey;
use transit_update::publishers::AllowList;

fn verify(path: &Path) -> Result<bundle::VerifiedBundle, BundleError> {
    bundle::verify(path, &mut std::io::sink(), &CancelToken::new(), &NoProgress)
}

/// The byte offset of the payload's data inside a bundle.
fn payload_offset(path: &Path) -> u64 {
    let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some("payload.tar.zst") {
            return entry.raw_file_position();
        }
    }
    panic!("no payload entry");
}

#[test]
fn a_built_bundle_verifies_and_streams_its_payload() {
    let fx = Fixture::new();
    let path = fx.bundle("ok", &patch3(), None);
    let mut sink = Vec::new();
    let verified = bundle::verify(&path, &mut sink, &CancelToken::new(), &NoProgress).unwrap();
    let payload = verified.manifest.payload.clone().unwrap();
    assert_eq!(sink.len() as u64, payload.length);
    assert_eq!(verified.signer, fx.publisher.public());
    assert_eq!(verified.manifest.application, "Interaction Desktop");
    // The payload is a tar.zst of the folder.
    let mut names: Vec<String> = tar::Archive::new(zstd::Decoder::new(sink.as_slice()).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["bin", "bin/setup.sh", "file1.dat", "file2.dat"]);
    let allow = AllowList::load(&fx.repo.publishers_path()).unwrap();
    verified.check_publisher(&allow, &path).unwrap();
}

#[test]
fn a_tampered_payload_is_refused() {
    let fx = Fixture::new();
    let path = fx.bundle("t", &patch3(), None);
    let at = payload_offset(&path) + 100;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    file.seek(SeekFrom::Start(at)).unwrap();
    let mut b = [0u8];
    file.read_exact(&mut b).unwrap();
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(&[b[0] ^ 0xff]).unwrap();
    drop(file);
    let err = verify(&path).unwrap_err();
    assert!(matches!(err, BundleError::PayloadMismatch { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::UpdateBadBundle);
}

#[test]
fn a_truncated_bundle_is_refused() {
    let fx = Fixture::new();
    let path = fx.bundle("t", &patch3(), None);
    let cut = payload_offset(&path) + 50;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(cut)
        .unwrap();
    let err = verify(&path).unwrap_err();
    assert!(matches!(err, BundleError::Truncated { .. }), "{err}");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(100)
        .unwrap();
    assert!(matches!(
        verify(&path).unwrap_err(),
        BundleError::Truncated { .. } | BundleError::Malformed { .. }
    ));
}

/// Rewrites a bundle with `edit` applied to its entries (name, bytes).
fn rewrite(path: &Path, edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) {
    let mut entries = Vec::new();
    let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if let Some(data) = edit(&name, data) {
            entries.push((name, data));
        }
    }
    let mut builder = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, &name, data.as_slice())
            .unwrap();
    }
    builder.finish().unwrap();
}

#[test]
fn a_changed_manifest_no_longer_matches_its_signature() {
    let fx = Fixture::new();
    let path = fx.bundle("t", &patch3(), None);
    rewrite(&path, |name, data| {
        Some(if name == "manifest.toml" {
            String::from_utf8(data)
                .unwrap()
                .replace("high_priority = false", "high_priority = true")
                .into_bytes()
        } else {
            data
        })
    });
    let err = verify(&path).unwrap_err();
    assert!(matches!(err, BundleError::BadSignature { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::UpdateUnsigned);
}

#[test]
fn an_unsigned_bundle_is_refused_before_its_payload_is_read() {
    let fx = Fixture::new();
    let from = fx.path("p");
    payload(&from, 2, 1000);
    let out = fx.path("unsigned.tbundle");
    bundle::build(
        &from,
        &patch3(),
        None,
        &out,
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap();
    let mut sink = Vec::new();
    let err = bundle::verify(&out, &mut sink, &CancelToken::new(), &NoProgress).unwrap_err();
    assert!(matches!(err, BundleError::Unsigned { .. }), "{err}");
    assert!(
        sink.is_empty(),
        "no payload byte is used before the signature is checked"
    );
    // Dropping the signature entry of a signed bundle is the same refusal.
    let signed = fx.bundle("s", &patch3(), None);
    rewrite(&signed, |name, data| {
        (name != "manifest.sig").then_some(data)
    });
    assert!(matches!(
        verify(&signed).unwrap_err(),
        BundleError::Unsigned { .. }
    ));
}

#[test]
fn a_wrong_publisher_is_refused_by_name_and_by_key() {
    let fx = Fixture::new();
    let allow = AllowList::load(&fx.repo.publishers_path()).unwrap();
    let stranger = SigningKey::generate(&fx.path("mallory.key")).unwrap();
    // A stranger's key under the trusted name.
    let path = fx.bundle("k", &patch3(), Some(&stranger));
    let err = verify(&path)
        .unwrap()
        .check_publisher(&allow, &path)
        .unwrap_err();
    assert!(
        err.to_string().contains("not a key of publisher `Genesys`"),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::UpdatePublisher);
    // The trusted key under another name.
    let other = patch3().replace("publisher = \"Genesys\"", "publisher = \"Mallory\"");
    let path = fx.bundle("n", &other, None);
    let err = verify(&path)
        .unwrap()
        .check_publisher(&allow, &path)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`Mallory` is not on the allow-list"),
        "{err}"
    );
}

#[test]
fn ingest_refuses_and_logs_each_bad_bundle() {
    let fx = Fixture::new();
    let stranger = SigningKey::generate(&fx.path("mallory.key")).unwrap();
    let bad = fx.bundle("bad", &patch3(), Some(&stranger));
    let err = crate::common::rt()
        .block_on(transit_update::ingest::ingest_file(
            &fx.repo,
            &bad,
            None,
            &CancelToken::new(),
            &NoProgress,
        ))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UpdatePublisher);
    let store = transit_update::Store::open(&fx.repo.store_path()).unwrap();
    let log = store.activity(10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].status,
        transit_update::store::ActivityStatus::IngestFailed
    );
    assert!(
        log[0].description.contains("not a key of publisher"),
        "{}",
        log[0].description
    );
    assert!(store.updates().unwrap().is_empty());
    assert!(fx.repo.state().unwrap().targets.signed.targets.is_empty());
}

#[test]
fn a_bad_manifest_field_is_named_at_build() {
    let fx = Fixture::new();
    let from = fx.path("p");
    payload(&from, 1, 10);
    let text = manifest("Interaction Desktop", "2018 R1", 3, "Patch", "18.02.03.12");
    let err = bundle::build(
        &from,
        &text,
        Some(&fx.publisher),
        &fx.path("x.tbundle"),
        &CancelToken::new(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("install_version"), "{err}");
    assert!(!fx.path("x.tbundle").exists());
}

#[test]
fn not_a_bundle_is_malformed() {
    let fx = Fixture::new();
    let path = fx.path("junk.tbundle");
    std::fs::write(&path, vec![7u8; 4096]).unwrap();
    let err = verify(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UpdateBadBundle, "{err}");
}
