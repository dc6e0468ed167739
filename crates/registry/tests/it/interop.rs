//! `.reg` import and export against real registry files.

use proptest::prelude::*;
use std::collections::BTreeMap;
use transit_registry::interop::{export_reg, import_reg, ROOT_PREFIX};
use transit_registry::regfile::{RegErrorKind, RegFormat};
use transit_registry::{KeyPath, Registry, RegistryError, RegistryRead, ValueData};

fn fresh() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::open(&dir.path().join("registry.db")).unwrap();
    (dir, reg)
}

fn k(s: &str) -> KeyPath {
    KeyPath::parse(s).unwrap()
}

/// Everything a registry holds, in walk order, for comparison.
fn contents(reg: &impl RegistryRead) -> Vec<(String, Vec<(String, ValueData)>)> {
    reg.walk(&KeyPath::root())
        .map(|r| {
            let r = r.unwrap();
            let values = r.values.into_iter().map(|v| (v.name, v.data)).collect();
            (r.path.to_string(), values)
        })
        .collect()
}

fn export_bytes(reg: &impl RegistryRead, path: &KeyPath, format: RegFormat) -> Vec<u8> {
    export_reg(reg, path, Vec::new(), format).unwrap().0
}

fn utf16(text: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

fn sample(reg: &mut Registry) {
    let mut txn = reg.write().unwrap();
    txn.set_value(
        &k("EIC\\Users\\jdoe"),
        "Display Name",
        &ValueData::Sz("John \"JD\" Doe\\".into()),
    )
    .unwrap();
    txn.set_value(
        &k("EIC\\Users\\jdoe"),
        "",
        &ValueData::ExpandSz("%ProgramFiles%\\I3".into()),
    )
    .unwrap();
    txn.set_value(
        &k("EIC\\Users\\jdoe"),
        "Groups",
        &ValueData::MultiSz(vec!["Sales".into(), "Support".into()]),
    )
    .unwrap();
    txn.set_value(
        &k("EIC\\Users\\jdoe"),
        "Flags",
        &ValueData::Dword(0xdeadbeef),
    )
    .unwrap();
    txn.set_value(&k("EIC\\Users\\jdoe"), "Big", &ValueData::Qword(1 << 40))
        .unwrap();
    txn.set_value(
        &k("EIC\\Users\\jdoe"),
        "Blob",
        &ValueData::Binary((0..100).collect()),
    )
    .unwrap();
    txn.set_value(&k("EIC\\Other"), "x", &ValueData::Sz("y".into()))
        .unwrap();
    txn.commit().unwrap();
}

#[test]
fn export_then_import_is_identical_in_both_formats() {
    for format in [RegFormat::Regedit5, RegFormat::Regedit4] {
        let (_a, mut a) = fresh();
        sample(&mut a);
        let bytes = export_bytes(&a, &KeyPath::root(), format);
        let (_b, mut b) = fresh();
        import_reg(&mut b, &bytes[..]).unwrap();
        assert_eq!(contents(&a), contents(&b), "{format:?}");
        assert_eq!(
            export_bytes(&b, &KeyPath::root(), format),
            bytes,
            "{format:?}"
        );
    }
}

#[test]
fn subtree_export_names_full_windows_paths() {
    let (_a, mut a) = fresh();
    sample(&mut a);
    let bytes = export_bytes(&a, &k("eic\\users"), RegFormat::Regedit4);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC\\Users]\r\n"), "{text}");
    assert!(text.contains("\"Flags\"=dword:deadbeef\r\n"));
    assert!(!text.contains("Other"));
    assert!(matches!(
        export_reg(&a, &k("nope"), Vec::new(), RegFormat::Regedit5),
        Err(RegistryError::KeyNotFound(_))
    ));
}

#[test]
fn import_accepts_any_case_of_the_prefix_and_deletions() {
    let (_a, mut a) = fresh();
    sample(&mut a);
    let text = "Windows Registry Editor Version 5.00\r\n\r\n\
        [hkey_local_machine\\software\\INTERACTIVE INTELLIGENCE\\EIC\\Users\\jdoe]\r\n\
        \"Flags\"=-\r\n\"New\"=\"v\"\r\n\r\n\
        [-HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC\\Other]\r\n";
    let stats = import_reg(&mut a, &utf16(text)[..]).unwrap();
    assert_eq!((stats.keys, stats.values), (2, 2));
    assert_eq!(a.get_value(&k("EIC\\Users\\jdoe"), "Flags").unwrap(), None);
    assert_eq!(
        a.get_value(&k("EIC\\Users\\jdoe"), "new").unwrap(),
        Some(ValueData::Sz("v".into()))
    );
    assert!(!a.key_exists(&k("EIC\\Other")).unwrap());
}

/// Runs an import that must fail, and checks the registry is untouched.
fn failing_import(bytes: &[u8]) -> RegistryError {
    let (_a, mut a) = fresh();
    sample(&mut a);
    let before = export_bytes(&a, &KeyPath::root(), RegFormat::Regedit5);
    let err = import_reg(&mut a, bytes).unwrap_err();
    assert_eq!(
        export_bytes(&a, &KeyPath::root(), RegFormat::Regedit5),
        before,
        "a failed import changed the registry"
    );
    err
}

fn reg_error_kind(err: &RegistryError) -> (&RegErrorKind, u64) {
    match err {
        RegistryError::RegFile(e) => (&e.kind, e.line),
        other => panic!("expected a .reg file error, got {other:?}"),
    }
}

#[test]
fn a_key_outside_the_root_is_refused_with_its_line_and_nothing_changes() {
    let text = format!(
        "Windows Registry Editor Version 5.00\r\n\r\n[{ROOT_PREFIX}\\EIC\\New]\r\n\"a\"=\"b\"\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft]\r\n"
    );
    let err = failing_import(&utf16(&text));
    match &err {
        RegistryError::OutsideRoot { line, path } => {
            assert_eq!(*line, 6);
            assert_eq!(path, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().starts_with("line 6: "));
}

#[test]
fn truncated_file_is_refused_and_nothing_changes() {
    let text = format!("Windows Registry Editor Version 5.00\r\n\r\n[{ROOT_PREFIX}\\EIC\\New]\r\n\"a\"=\"b\"\r\n\"bin\"=hex:01,02,\\\r\n");
    let err = failing_import(&utf16(&text));
    assert!(
        matches!(reg_error_kind(&err).0, RegErrorKind::Truncated(_)),
        "{err}"
    );
    // Cut in the middle of a UTF-16 code unit.
    let mut bytes = utf16(&format!(
        "Windows Registry Editor Version 5.00\r\n\r\n[{ROOT_PREFIX}\\EIC\\New]\r\n\"a\"=\"b"
    ));
    bytes.push(0x41);
    let err = failing_import(&bytes);
    assert!(
        matches!(reg_error_kind(&err).0, RegErrorKind::Truncated(_)),
        "{err}"
    );
}

#[test]
fn bad_hex_is_refused_with_line_and_column() {
    let text = format!("Windows Registry Editor Version 5.00\r\n\r\n[{ROOT_PREFIX}\\EIC\\New]\r\n\"a\"=hex:01,zz,03\r\n");
    let err = failing_import(&utf16(&text));
    let (kind, line) = reg_error_kind(&err);
    assert!(matches!(kind, RegErrorKind::BadHex(_)), "{err}");
    assert_eq!(line, 4);
    assert!(err.to_string().contains("column"), "{err}");
}

#[test]
fn wrong_encodings_and_missing_headers_are_refused() {
    let body = format!("Windows Registry Editor Version 5.00\r\n\r\n[{ROOT_PREFIX}\\EIC\\New]\r\n");
    // UTF-16 big-endian.
    let mut be = vec![0xfe, 0xff];
    for u in body.encode_utf16() {
        be.extend_from_slice(&u.to_be_bytes());
    }
    let err = failing_import(&be);
    assert!(
        matches!(reg_error_kind(&err).0, RegErrorKind::WrongEncoding(_)),
        "{err}"
    );
    // UTF-16LE without its byte-order mark.
    let no_bom = utf16(&body)[2..].to_vec();
    let err = failing_import(&no_bom);
    assert!(
        matches!(reg_error_kind(&err).0, RegErrorKind::WrongEncoding(_)),
        "{err}"
    );
    // No header at all.
    let err = failing_import(format!("[{ROOT_PREFIX}\\EIC\\New]\r\n").as_bytes());
    assert!(
        matches!(reg_error_kind(&err).0, RegErrorKind::MissingHeader),
        "{err}"
    );
    let err = failing_import(b"");
    assert!(
        matches!(reg_error_kind(&err).0, RegErrorKind::MissingHeader),
        "{err}"
    );
}

#[test]
fn an_invalid_value_late_in_the_file_rolls_back_everything_before_it() {
    let mut text = format!("Windows Registry Editor Version 5.00\r\n\r\n[-{ROOT_PREFIX}\\EIC]\r\n\r\n[{ROOT_PREFIX}\\EIC\\New]\r\n");
    for i in 0..1000 {
        text.push_str(&format!("\"v{i}\"=dword:{i:08x}\r\n"));
    }
    text.push_str("\"bad\"=dword:123456789\r\n");
    let err = failing_import(&utf16(&text));
    assert_eq!(reg_error_kind(&err).1, 1006);
}

// ---- Round trip: registry → .reg → registry, for arbitrary content. ----

fn key_name() -> impl Strategy<Value = String> {
    // Printable names, including spaces, quotes, brackets and non-ASCII;
    // never a backslash (the separator) or a control character.
    proptest::string::string_regex("[A-Za-z0-9 _.\\-\\[\\]\"'éßЖ中😀]{1,12}").unwrap()
}

fn text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.replace('\0', ""))
}

fn value_data() -> impl Strategy<Value = ValueData> {
    prop_oneof![
        text().prop_map(ValueData::Sz),
        text().prop_map(ValueData::ExpandSz),
        proptest::collection::vec(text().prop_filter("non-empty", |s| !s.is_empty()), 0..4)
            .prop_map(ValueData::MultiSz),
        any::<u32>().prop_map(ValueData::Dword),
        any::<u64>().prop_map(ValueData::Qword),
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(ValueData::Binary),
    ]
}

fn tree() -> impl Strategy<Value = BTreeMap<Vec<String>, Vec<(String, ValueData)>>> {
    let key = proptest::collection::vec(key_name(), 1..4);
    let values = proptest::collection::vec(
        (prop_oneof![Just(String::new()), text()], value_data()),
        0..5,
    );
    proptest::collection::btree_map(key, values, 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn registry_reg_registry_round_trip(tree in tree()) {
        let (_a, mut a) = fresh();
        let mut txn = a.write().unwrap();
        for (segments, values) in &tree {
            let key = KeyPath::parse(&segments.join("\\")).unwrap();
            txn.create_key(&key).unwrap();
            for (name, data) in values {
                txn.set_value(&key, name, data).unwrap();
            }
        }
        txn.commit().unwrap();

        let bytes = export_bytes(&a, &KeyPath::root(), RegFormat::Regedit5);
        let (_b, mut b) = fresh();
        import_reg(&mut b, &bytes[..]).unwrap();
        prop_assert_eq!(contents(&a), contents(&b));
        prop_assert_eq!(export_bytes(&b, &KeyPath::root(), RegFormat::Regedit5), bytes);
    }
}

/// A file cut in the middle of a hex value, at a point that leaves a
/// complete-looking line: warned about (it has no final line end, which
/// regedit always writes), and refused under `strict`.
#[test]
fn a_file_without_its_final_line_end_is_flagged_and_refused_when_strict() {
    let bytes: String = (0..512).map(|i| format!("{:02x},", i % 256)).collect();
    let full = format!(
        "Windows Registry Editor Version 5.00\r\n\r\n\
         [HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC\\Blob]\r\n\
         \"Data\"=hex:{}\r\n\r\n",
        bytes.trim_end_matches(',')
    );
    // Cut after the 60th byte's comma-free form: "…,3b" looks complete.
    let cut = full.find("3b,").unwrap() + 2;
    let truncated = &full[..cut];
    for (text, encode) in [
        (truncated, utf16 as fn(&str) -> Vec<u8>),
        (truncated, |t: &str| t.as_bytes().to_vec()),
    ] {
        let text = if encode("x").len() == 1 {
            text.replace("Windows Registry Editor Version 5.00", "REGEDIT4")
        } else {
            text.to_string()
        };
        let input = encode(&text);
        let (_d, mut reg) = fresh();
        let (stats, last) =
            transit_registry::interop::import_reg_checked(&mut reg, &input[..], false).unwrap();
        assert_eq!(stats.values, 1);
        let last = last.expect("the missing line end is reported");
        assert_eq!(last.line, 4);
        assert!(last.text.starts_with("\"Data\"=hex:00,01"), "{last:?}");

        let (_d, mut reg) = fresh();
        let err =
            transit_registry::interop::import_reg_checked(&mut reg, &input[..], true).unwrap_err();
        assert!(
            matches!(&err, RegistryError::RegFile(e) if matches!(e.kind, RegErrorKind::Truncated(_))),
            "{err:?}"
        );
        assert!(!reg.key_exists(&k("EIC\\Blob")).unwrap(), "nothing changed");
    }
    // The whole file, with its line end, is not flagged.
    let (_d, mut reg) = fresh();
    let (_, last) =
        transit_registry::interop::import_reg_checked(&mut reg, &utf16(&full)[..], true).unwrap();
    assert_eq!(last, None);
    assert_eq!(
        reg.get_value(&k("EIC\\Blob"), "Data").unwrap(),
        Some(ValueData::Binary(
            (0..512).map(|i| (i % 256) as u8).collect()
        ))
    );
}

/// Raw types (`hex(0)`, `hex(5)`, `hex(8)`) and a short `hex(b)` survive
/// the store and come back byte for byte, unpadded.
#[test]
fn raw_types_and_short_numbers_round_trip_byte_for_byte() {
    let text = "Windows Registry Editor Version 5.00\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence]\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC]\r\n\
        \"a none\"=hex(0):\r\n\
        \"b big\"=hex(5):00,00,00,2a\r\n\
        \"c list\"=hex(8):01,00,00,00,02\r\n\
        \"d short\"=hex(b):01,02,03\r\n\
        \"e dword\"=hex(4):07\r\n\r\n";
    let (_d, mut reg) = fresh();
    import_reg(&mut reg, &utf16(text)[..]).unwrap();
    assert_eq!(
        reg.get_value(&k("EIC"), "d short").unwrap(),
        Some(ValueData::Raw {
            kind: 11,
            bytes: vec![1, 2, 3]
        })
    );
    let out = export_bytes(&reg, &KeyPath::root(), RegFormat::Regedit5);
    assert_eq!(out, utf16(text));
}

/// Values come back in the order they were stored, as regedit writes
/// them, so a real regedit file round-trips byte for byte; a replaced
/// value keeps its place.
#[test]
fn values_keep_their_stored_order() {
    let text = "Windows Registry Editor Version 5.00\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence]\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC]\r\n\
        \"Zeta\"=\"1\"\r\n\
        @=\"default\"\r\n\
        \"alpha\"=dword:00000002\r\n\
        \"Mid\"=\"3\"\r\n\r\n";
    let (_d, mut reg) = fresh();
    import_reg(&mut reg, &utf16(text)[..]).unwrap();
    assert_eq!(
        export_bytes(&reg, &KeyPath::root(), RegFormat::Regedit5),
        utf16(text)
    );
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("EIC"), "alpha", &ValueData::Dword(9))
        .unwrap();
    txn.set_value(&k("EIC"), "New", &ValueData::Sz("4".into()))
        .unwrap();
    txn.commit().unwrap();
    let names: Vec<String> = reg
        .values(&k("EIC"))
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["Zeta", "", "alpha", "Mid", "New"]);
}

/// Sibling keys come out in regedit's order, which compares upper-cased
/// names (so `_` sorts after the letters), whatever order they were
/// written in; a regedit export round-trips byte for byte.
#[test]
fn sibling_keys_follow_regedits_order() {
    let head = "Windows Registry Editor Version 5.00\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence]\r\n\r\n";
    let key = |name: &str| {
        format!("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\{name}]\r\n\r\n")
    };
    let regedit_order = [
        "Key1",
        "KeyA",
        "keyb",
        "Key_1",
        "Key_1\\sub",
        "key`",
        "Key{",
    ];
    let expected: String = std::iter::once(head.to_string())
        .chain(regedit_order.iter().map(|n| key(n)))
        .collect();
    // Written in another order: the store sorts on its own.
    let shuffled: String = std::iter::once(head.to_string())
        .chain(
            ["Key{", "Key_1\\sub", "keyb", "key`", "Key1", "KeyA"]
                .iter()
                .map(|n| key(n)),
        )
        .collect();
    let (_d, mut reg) = fresh();
    import_reg(&mut reg, &utf16(&shuffled)[..]).unwrap();
    assert_eq!(
        String::from_utf16(
            &export_bytes(&reg, &KeyPath::root(), RegFormat::Regedit5)[2..]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<_>>()
        )
        .unwrap(),
        expected
    );
}
