//! Round trips through [`RegWriter`] and [`RegReader`].

use proptest::prelude::*;

use super::*;

/// One key block to write.
#[derive(Debug, Clone)]
struct Block {
    path: String,
    values: Vec<(Option<String>, ValueData)>,
}

/// Characters that stress escaping, line handling and UTF-16.
const TRICKY: &[char] = &[
    '"', '\\', '\r', '\n', '\t', ' ', ';', '[', ']', '=', '@', '😀', '\u{FEFF}', 'é', '€',
];

/// Windows-1252-representable characters, including the tricky ASCII ones.
const ANSI: &[char] = &[
    '"', '\\', '\r', '\n', ' ', ';', ']', 'é', '€', 'ÿ', 'Ž', '©', '\u{81}', 'a', 'Z', '0',
];

fn text(chars: impl Strategy<Value = char> + Clone, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(chars, 0..max).prop_map(|v| v.into_iter().collect())
}

fn unicode_char() -> impl Strategy<Value = char> + Clone {
    prop_oneof![
        any::<char>().prop_filter("no NUL", |c| *c != '\0'),
        prop::sample::select(TRICKY),
        proptest::char::range('a', 'z'),
    ]
}

fn ansi_char() -> impl Strategy<Value = char> + Clone {
    prop_oneof![prop::sample::select(ANSI), proptest::char::range(' ', '~'),]
}

fn data(chars: impl Strategy<Value = char> + Clone + 'static) -> impl Strategy<Value = ValueData> {
    let nonempty = text(chars.clone(), 12).prop_filter("non-empty", |s| !s.is_empty());
    prop_oneof![
        text(chars.clone(), 40).prop_map(ValueData::Sz),
        text(chars, 40).prop_map(ValueData::ExpandSz),
        prop::collection::vec(any::<u8>(), 0..100).prop_map(ValueData::Binary),
        any::<u32>().prop_map(ValueData::Dword),
        prop::collection::vec(nonempty, 0..4).prop_map(ValueData::MultiSz),
        any::<u64>().prop_map(ValueData::Qword),
    ]
}

fn blocks(
    chars: impl Strategy<Value = char> + Clone + 'static,
) -> impl Strategy<Value = Vec<Block>> {
    let name = prop::option::of(text(chars.clone(), 12).prop_filter("named", |s| !s.is_empty()));
    let path_chars = chars
        .clone()
        .prop_filter("one-line", |c| !matches!(c, '\r' | '\n'));
    let path = text(path_chars, 16).prop_map(|s| format!("HKEY_LOCAL_MACHINE\\SOFTWARE\\{s}"));
    let block = (path, prop::collection::vec((name, data(chars)), 0..6))
        .prop_map(|(path, values)| Block { path, values });
    prop::collection::vec(block, 0..5)
}

fn write_blocks(format: RegFormat, blocks: &[Block]) -> Vec<u8> {
    let mut w = RegWriter::new(Vec::new(), format).unwrap();
    for b in blocks {
        w.key(&b.path).unwrap();
        for (name, data) in &b.values {
            w.value(name.as_deref(), data).unwrap();
        }
    }
    w.finish().unwrap()
}

fn read_blocks(bytes: &[u8]) -> (RegFormat, Vec<Block>) {
    let reader = RegReader::new(bytes).unwrap();
    let format = reader.format();
    let mut out: Vec<Block> = Vec::new();
    for item in reader {
        match item.unwrap() {
            RegItem::Key { path, .. } => out.push(Block {
                path,
                values: vec![],
            }),
            RegItem::Value { name, data, .. } => {
                out.last_mut().unwrap().values.push((name, data));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    (format, out)
}

fn same(a: &[Block], b: &[Block]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.path == y.path && x.values == y.values)
}

/// Whether the Windows-1252 bytes of `s` would be read back as different
/// UTF-8 text (the reader prefers UTF-8 when a line is valid UTF-8).
fn ambiguous_in_ansi(s: &str) -> bool {
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(s);
    !s.is_ascii() && std::str::from_utf8(&bytes).is_ok()
}

fn strings_of(blocks: &[Block]) -> impl Iterator<Item = &str> {
    blocks.iter().flat_map(|b| {
        std::iter::once(b.path.as_str()).chain(b.values.iter().flat_map(|(n, d)| {
            let data: Vec<&str> = match d {
                ValueData::Sz(s) | ValueData::ExpandSz(s) => vec![s],
                ValueData::MultiSz(v) => v.iter().map(String::as_str).collect(),
                _ => vec![],
            };
            n.as_deref().into_iter().chain(data)
        }))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn regedit5_round_trip(blocks in blocks(unicode_char())) {
        let bytes = write_blocks(RegFormat::Regedit5, &blocks);
        let (format, back) = read_blocks(&bytes);
        prop_assert_eq!(format, RegFormat::Regedit5);
        prop_assert!(same(&blocks, &back), "{:?}\n!=\n{:?}", blocks, back);
    }

    #[test]
    fn regedit4_round_trip(blocks in blocks(ansi_char())) {
        prop_assume!(!strings_of(&blocks).any(ambiguous_in_ansi));
        let bytes = write_blocks(RegFormat::Regedit4, &blocks);
        let (format, back) = read_blocks(&bytes);
        prop_assert_eq!(format, RegFormat::Regedit4);
        prop_assert!(same(&blocks, &back), "{:?}\n!=\n{:?}", blocks, back);
    }
}

#[test]
fn deletions_round_trip() {
    let mut w = RegWriter::new(Vec::new(), RegFormat::Regedit5).unwrap();
    w.delete_key("HKEY_CURRENT_USER\\Old").unwrap();
    w.key("HKEY_CURRENT_USER\\New").unwrap();
    w.delete_value(Some("x")).unwrap();
    w.delete_value(None).unwrap();
    let bytes = w.finish().unwrap();
    let items: Vec<_> = RegReader::new(&bytes[..])
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        items,
        vec![
            RegItem::DeleteKey {
                path: "HKEY_CURRENT_USER\\Old".into(),
                line: 3
            },
            RegItem::Key {
                path: "HKEY_CURRENT_USER\\New".into(),
                line: 5
            },
            RegItem::DeleteValue {
                name: Some("x".into()),
                line: 6
            },
            RegItem::DeleteValue {
                name: None,
                line: 7
            },
        ]
    );
}

/// Writes and reads many simple values through the full streaming path. Not
/// a timing assertion: throughput is measured by `bench/registry.sh`.
fn many_values(count: u32) {
    let mut w = RegWriter::new(Vec::new(), RegFormat::Regedit5).unwrap();
    w.key("HKEY_LOCAL_MACHINE\\SOFTWARE\\Bulk").unwrap();
    for i in 0..count {
        let name = format!("Value{i}");
        if i % 2 == 0 {
            w.value(Some(&name), &ValueData::Dword(i)).unwrap();
        } else {
            w.value(Some(&name), &ValueData::Sz("some text".into()))
                .unwrap();
        }
    }
    let bytes = w.finish().unwrap();
    let mut n = 0u32;
    for item in RegReader::new(&bytes[..]).unwrap() {
        if let RegItem::Value { .. } = item.unwrap() {
            n += 1;
        }
    }
    assert_eq!(n, count);
}

#[test]
fn streams_many_values() {
    many_values(20_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary input never panics, and iteration ends after an error.
    #[test]
    fn garbage_never_panics(
        body in prop::collection::vec(
            prop_oneof![
                any::<u8>(),
                prop::sample::select(b"[]-\"@=\\,;:hexdword()0aZ \r\n".to_vec()),
            ],
            0..300,
        ),
        utf16 in any::<bool>(),
    ) {
        let mut bytes = if utf16 { vec![0xFF, 0xFE] } else { Vec::new() };
        let header = b"REGEDIT4\r\n[K]\r\n";
        for &b in header.iter().chain(&body) {
            bytes.push(b);
            if utf16 {
                bytes.push(0);
            }
        }
        let mut reader = RegReader::new(&bytes[..]).unwrap();
        let mut failed = false;
        for item in reader.by_ref() {
            prop_assert!(!failed);
            failed = item.is_err();
        }
        prop_assert!(reader.next().is_none());
    }
}
