//! `transit server …` end to end.

use crate::common::{demo, export, init, transit, Exit, ExitAssert};
use predicates::prelude::*;
use std::time::{Duration, Instant};

#[test]
fn init_creates_the_layout_and_refuses_a_second_init() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    init(&root, "CIC01", 3);
    for sub in [
        "server.toml",
        "machine.key",
        "registry.db",
        "files",
        "run",
        "logs",
        "restore-points",
    ] {
        assert!(root.join(sub).exists(), "{sub}");
    }
    let toml = std::fs::read_to_string(root.join("server.toml")).unwrap();
    assert!(
        toml.contains("site_id = 3") && toml.contains("[migrator]"),
        "{toml}"
    );
    transit(&root)
        .args([
            "server",
            "init",
            "--name",
            "X",
            "--site-name",
            "Y",
            "--site-id",
            "1",
            "--release",
            "2015 R1",
        ])
        .assert()
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("already holds a server"));
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    transit(&dir.path().join("s"))
        .args([
            "server",
            "init",
            "--name",
            "X",
            "--site-name",
            "Y",
            "--site-id",
            "1",
            "--release",
            "2015 R9",
        ])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("2015 R9"));
    transit(dir.path())
        .args(["server", "frobnicate"])
        .assert()
        .exit(Exit::Usage);
}

#[test]
fn a_missing_root_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    transit(&dir.path().join("nowhere"))
        .args(["server", "status"])
        .assert()
        .exit(Exit::Failure)
        .stderr(predicate::str::contains("does not exist"));
}

#[test]
fn a_broken_server_toml_is_a_bad_input_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    init(&root, "CIC01", 1);
    let toml = root.join("server.toml");
    let good = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, good.replace("site_id = 1\n", "")).unwrap();
    transit(&root)
        .args(["registry", "list"])
        .assert()
        .exit(Exit::BadInput)
        .stderr(predicate::str::contains("missing field `site_id`"));
    std::fs::write(&toml, good.replace("site_id = 1", "site_id = -4")).unwrap();
    transit(&root)
        .args(["server", "status"])
        .assert()
        .exit(Exit::BadInput);
}

#[test]
fn service_lock_start_status_second_start_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    init(&root, "CIC01", 1);
    transit(&root)
        .args(["server", "status"])
        .assert()
        .success()
        .stdout("stopped\n");
    let out = transit(&root)
        .args(["server", "start", "--daemon"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let pid: u32 = text
        .trim()
        .rsplit("pid ")
        .next()
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap();

    transit(&root)
        .args(["server", "status"])
        .assert()
        .success()
        .stdout(format!("running (pid {pid})\n"));
    transit(&root)
        .args(["server", "start"])
        .assert()
        .exit(Exit::ServiceRunning)
        .stderr(predicate::str::contains(format!(
            "service already running (pid {pid})"
        )));
    transit(&root)
        .args(["server", "start", "--daemon"])
        .assert()
        .exit(Exit::ServiceRunning)
        .stderr(predicate::str::contains(format!(
            "service already running (pid {pid})"
        )));
    transit(&root)
        .args(["server", "stop"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("pid {pid}")));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = transit(&root)
            .args(["server", "status", "--json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if v["status"] == "stopped" {
            break;
        }
        assert!(Instant::now() < deadline, "service did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    transit(&root)
        .args(["server", "stop"])
        .assert()
        .exit(Exit::Failure)
        .stderr(predicate::str::contains("not running"));
}

#[test]
fn demo_export_reimports_identically() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    demo(&a, 1000, 7);
    let first = export(&a, &dir.path().join("a.reg"));
    init(&b, "CIC01", 1);
    // An empty root already has the DS skeleton; the import fills it.
    transit(&b)
        .args(["registry", "import"])
        .arg(dir.path().join("a.reg"))
        .assert()
        .success()
        .stdout(predicate::str::contains("values"));
    let second = export(&b, &dir.path().join("b.reg"));
    assert!(first == second, "re-imported registry exports differently");
    assert!(first.len() > 1_000_000);
}

fn tree_digest(dir: &std::path::Path) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                let sum = bytes.iter().fold(0u64, |h, &b| {
                    h.wrapping_mul(1099511628211).wrapping_add(b as u64)
                });
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    bytes.len() as u64,
                    sum,
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn demo_scales_and_is_deterministic_per_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    demo(&a, 1000, 42);
    demo(&b, 1000, 42);
    demo(&c, 1000, 43);
    let ra = export(&a, &dir.path().join("a.reg"));
    assert_eq!(
        ra,
        export(&b, &dir.path().join("b.reg")),
        "same seed, same registry"
    );
    assert_ne!(
        ra,
        export(&c, &dir.path().join("c.reg")),
        "another seed, another registry"
    );
    let fa = tree_digest(&a.join("files"));
    assert_eq!(fa, tree_digest(&b.join("files")), "same seed, same files");
    assert_ne!(fa, tree_digest(&c.join("files")));

    // About 50k values and 20 MB of files at 1000 users.
    let values = String::from_utf8(
        transit(&a)
            .args(["registry", "list", "--recursive", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .lines()
    .map(|l| {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["values"]
            .as_u64()
            .unwrap()
    })
    .sum::<u64>();
    assert!((40_000..60_000).contains(&values), "{values} values");
    let bytes: u64 = fa.iter().map(|f| f.1).sum();
    assert!(
        (15_000_000..25_000_000).contains(&bytes),
        "{bytes} bytes of files"
    );
}

/// Every top-level subcommand of the clap definition.
fn subcommands() -> Vec<String> {
    use clap::CommandFactory;
    transit_cli::cli::Cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect()
}

#[test]
fn completions_for_each_shell_mention_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let names = subcommands();
    assert!(names.len() > 15, "{names:?}");
    for shell in ["bash", "zsh", "fish"] {
        let out = transit(dir.path())
            .args(["completions", shell])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let script = String::from_utf8(out).unwrap();
        for name in &names {
            assert!(script.contains(name.as_str()), "{shell} lacks {name}");
        }
    }
}

#[test]
fn the_man_page_documents_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = transit(dir.path())
        .arg("man")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let page = String::from_utf8(out).unwrap();
    assert!(page.starts_with(".ie") || page.contains(".TH"), "not roff");
    assert!(page.contains("Exit codes"), "the exit table is in the page");
    for name in subcommands() {
        // roff writes every '-' as '\-'.
        let roff = format!("transit-{name}").replace('-', "\\-");
        assert!(page.contains(&roff), "man lacks {name}");
    }
}
