use super::*;
use secrecy::ExposeSecret;

fn export_of(cmd: &ConsoleCommand) -> (&Vec<String>, &Option<PathBuf>, &PathBuf, Option<&str>) {
    match &cmd.task {
        ConsoleTask::Export(plan) => (
            &plan.components,
            &plan.handlers,
            &plan.folder,
            plan.password.as_ref().map(|p| p.expose_secret()),
        ),
        other => panic!("expected an export, got {other:?}"),
    }
}

fn import_of(cmd: &ConsoleCommand) -> &ImportPlan {
    match &cmd.task {
        ConsoleTask::Import(plan) => plan,
        other => panic!("expected an import, got {other:?}"),
    }
}

#[test]
fn reference_example_1_export_all_with_password() {
    // As printed in the reference, with the line wrap kept: `-` then
    // `customHandlerPath=…` on the next line.
    let cmd = parse(&[
        "-export",
        "-exportfolder=\"/tmp/d temp\"",
        "-exportNodes=\"all\"",
        "-",
        "customHandlerPath=\"/tmp/customHandlers\"",
        "-password=foo",
        "noprompt",
    ])
    .unwrap();
    let (nodes, handlers, folder, password) = export_of(&cmd);
    assert_eq!(nodes, &vec!["all".to_string()]);
    assert_eq!(
        handlers.as_deref(),
        Some(std::path::Path::new("/tmp/customHandlers"))
    );
    assert_eq!(folder, &PathBuf::from("/tmp/d temp"));
    assert_eq!(password, Some("foo"));
    assert!(cmd.noprompt);
}

#[test]
fn reference_example_2_users_and_workgroups() {
    let cmd = parse(&[
        "-export",
        "-exportfolder=/tmp/x",
        "-exportNodes=users, workgroups",
        "-customHandlerPath=/h",
        "noprompt",
    ])
    .unwrap();
    let (nodes, _, _, password) = export_of(&cmd);
    assert_eq!(nodes, &vec!["users".to_string(), "workgroups".to_string()]);
    assert_eq!(password, None);
}

#[test]
fn reference_example_3_import() {
    let cmd = parse(&[
        "-import",
        "-importfile=\"/tmp/foo_030320071919.ininmigr\"",
        "-importNodes=\"all\"",
        "-extractionFolder=\"/tmp/My Import Folder\"",
        "-password=\"1234\"",
        "noprompt",
    ])
    .unwrap();
    let plan = import_of(&cmd);
    assert_eq!(plan.file, PathBuf::from("/tmp/foo_030320071919.ininmigr"));
    assert_eq!(plan.components, vec!["all".to_string()]);
    assert_eq!(plan.extract_to, PathBuf::from("/tmp/My Import Folder"));
    assert_eq!(
        plan.password.as_ref().map(|p| p.expose_secret()),
        Some("1234")
    );
    assert_eq!(plan.mode, ImportMode::Migration);
    assert!(plan.restore_point && !plan.dev_mode && !plan.dry_run);
    assert!(cmd.noprompt);
}

#[test]
fn quoted_values_split_by_a_caller_are_rejoined() {
    // A caller that splits on spaces without honouring quotes.
    let cmd = parse(&["-EXPORT", "-ExportFolder=\"/tmp/my", "export", "folder\""]).unwrap();
    let (_, _, folder, _) = export_of(&cmd);
    assert_eq!(folder, &PathBuf::from("/tmp/my export folder"));
    assert!(!cmd.noprompt);
}

#[test]
fn names_ignore_case_and_all_is_any_case() {
    let cmd = parse(&[
        "-IMPORT",
        "-IMPORTFILE=/f.ininmigr",
        "-importnodes=ALL",
        "-EXTRACTIONFOLDER=/x",
        "-IMPORTMODE=1",
        "-DEVMODE",
        "-NoPrompt",
    ])
    .unwrap();
    let plan = import_of(&cmd);
    assert_eq!(plan.components, vec!["all".to_string()]);
    assert_eq!(plan.mode, ImportMode::Recovery);
    assert!(plan.dev_mode);
    assert!(cmd.noprompt);
}

#[test]
fn errors_name_the_switch() {
    let cases: &[(&[&str], ConsoleError)] = &[
        (
            &["-export", "-exportFolder=/x", "-frobnicate"],
            ConsoleError::Unknown("-frobnicate".into()),
        ),
        (&["-export", "-import"], ConsoleError::BothTasks),
        (&["-noprompt"], ConsoleError::NoTask),
        (
            &["-export", "-exportFolder"],
            ConsoleError::MissingValue("-exportFolder".into()),
        ),
        (
            &["-export", "-exportFolder="],
            ConsoleError::MissingValue("-exportFolder".into()),
        ),
        (
            &["-export=1"],
            ConsoleError::UnexpectedValue("-export".into()),
        ),
        (
            &["-export", "-exportFolder=/a", "-EXPORTFOLDER=/b"],
            ConsoleError::Repeated("-EXPORTFOLDER".into()),
        ),
        (
            &["-export", "-exportFolder=/a", "-importmode=1"],
            ConsoleError::WrongTask {
                switch: "-importmode".into(),
                belongs: "-import",
                task: "-export",
            },
        ),
        (
            &["-export"],
            ConsoleError::Required {
                switch: "-exportFolder",
                task: "-export",
            },
        ),
        (
            &["-import", "-importfile=/f"],
            ConsoleError::Required {
                switch: "-extractionfolder",
                task: "-import",
            },
        ),
        (
            &[
                "-import",
                "-importfile=/f",
                "-extractionfolder=/x",
                "-importmode=2",
            ],
            ConsoleError::BadImportMode("-importmode".into()),
        ),
        (
            &["-export", "-exportFolder=/a", "-exportNodes=Users,,Lines"],
            ConsoleError::EmptyNode("-exportNodes".into()),
        ),
        (
            &["-export", "-exportFolder=\"/a"],
            ConsoleError::Unterminated("-exportFolder".into()),
        ),
        (
            &["-export", "-exportFolder=/a", "-password=my", "secret"],
            ConsoleError::SplitValue("-password".into()),
        ),
        (
            &["-export", "-exportFolder=/a", "-exportNodes=all,Users"],
            ConsoleError::AllMixed("-exportNodes".into()),
        ),
        (
            &["-export", "-", "-exportFolder=/a"],
            ConsoleError::Unknown("-".into()),
        ),
        (
            &["export", "-exportFolder=/a"],
            ConsoleError::Unknown("export".into()),
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(parse(args).unwrap_err(), *expected, "args {args:?}");
        assert!(
            expected.to_string().contains('`')
                || matches!(expected, ConsoleError::BothTasks | ConsoleError::NoTask),
            "message names the switch: {expected}"
        );
    }
}

proptest::proptest! {
    /// Any node list, with any spacing around the commas, parses to the
    /// trimmed names in order.
    #[test]
    fn node_lists_ignore_spaces_around_commas(
        names in proptest::collection::vec("[A-Za-z][A-Za-z ]{0,12}[A-Za-z]", 1..6),
        pads in proptest::collection::vec((0usize..3, 0usize..3), 6),
    ) {
        let list: Vec<String> = names
            .iter()
            .zip(&pads)
            .map(|(n, (l, r))| format!("{}{}{}", " ".repeat(*l), n, " ".repeat(*r)))
            .collect();
        let arg = format!("-exportNodes=\"{}\"", list.join(","));
        let cmd = parse(&["-export", "-exportFolder=/x", &arg]).unwrap();
        let (nodes, _, _, _) = export_of(&cmd);
        proptest::prop_assume!(!names.iter().any(|n| n.trim().eq_ignore_ascii_case("all")));
        let expected: Vec<String> = names.iter().map(|n| n.trim().to_string()).collect();
        proptest::prop_assert_eq!(nodes, &expected);
    }
}

#[test]
fn passwords_never_reach_errors_or_logs() {
    let secret = "hunter2 and more";
    for args in [
        vec![
            "-export".to_string(),
            "-exportFolder=/a".into(),
            format!("-password=\"{secret}"),
        ],
        vec![
            "-export".to_string(),
            "-exportFolder=/a".into(),
            "-password=hunter2".into(),
            "and".into(),
            "more".into(),
        ],
    ] {
        let err = parse(&args).unwrap_err().to_string();
        assert!(!err.contains("hunter2") && !err.contains("more"), "{err}");
        let logged = redact(&args).join(" ");
        assert!(
            !logged.contains("hunter2") && !logged.contains("more"),
            "{logged}"
        );
        assert!(logged.contains("-exportFolder=/a"), "{logged}");
    }
}
