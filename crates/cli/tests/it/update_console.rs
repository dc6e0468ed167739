//! The provider's web console: `transit update provider init --admin`,
//! and the browser test — a real provider (the binary), driven by
//! Playwright (`playwright-core` from npm) in Debian's Chromium, headless:
//! crates/cli/tests/browser/console.mjs. Skips loudly without node,
//! chromium or the npm package, and fails instead under
//! `TRANSIT_REQUIRE_TOOLS=1` (CI, where `.ci/run` installs them).

use crate::common::{transit, Exit, ExitAssert};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    /// A data folder with a repository and a trusted publisher.
    fn new() -> Setup {
        let s = Setup {
            dir: tempfile::tempdir().unwrap(),
        };
        transit(&s.root())
            .args(["update", "keygen", "--data"])
            .arg(s.p("data"))
            .arg("--root-key")
            .arg(s.p("offline/root.key"))
            .assert()
            .success();
        transit(&s.root())
            .args(["update", "keygen", "--publisher", "Genesys", "--out"])
            .arg(s.p("pub"))
            .assert()
            .success();
        transit(&s.root())
            .args(["update", "publishers", "add", "--data"])
            .arg(s.p("data"))
            .arg(s.p("pub/Genesys.pub"))
            .assert()
            .success();
        s
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn root(&self) -> PathBuf {
        self.p("no-server")
    }

    /// A signed bundle of Interaction Desktop 2018 R1 at `patch`.
    fn bundle(&self, patch: u16) -> PathBuf {
        let from = self.p(&format!("payload{patch}"));
        std::fs::create_dir_all(&from).unwrap();
        std::fs::write(from.join("setup.bin"), vec![patch as u8; 200_000]).unwrap();
        let manifest = self.p(&format!("m{patch}.toml"));
        std::fs::write(
            &manifest,
            format!(
                r#"application = "Interaction Desktop"
release = "2018 R1"
patch = {patch}
install_type = "Patch"
install_version = "18.01.{patch:02}.01"
upgrade_code = "{{9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}}"
product_code = "{{1A2B3C4D-0000-4E3F-A6ED-D21BB0B29D01}}"
publisher = "Genesys"
"#
            ),
        )
        .unwrap();
        let out = self.p(&format!("p{patch}.tbundle"));
        transit(&self.root())
            .args(["update", "bundle", "--from"])
            .arg(&from)
            .arg("--manifest")
            .arg(&manifest)
            .arg("--key")
            .arg(self.p("pub/Genesys.key"))
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        out
    }

    fn init(&self, admin: &str, password: &str) -> assert_cmd::assert::Assert {
        let file = self.p("admin.pw");
        std::fs::write(&file, format!("{password}\n")).unwrap();
        transit(&self.root())
            .args(["update", "provider", "init", "--admin", admin, "--data"])
            .arg(self.p("data"))
            .arg("--password-file")
            .arg(&file)
            .assert()
    }

    fn provider(&self) -> (Kid, String) {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
            .args(["update", "provider", "--release", "2018 R1", "--patch", "9"])
            .args(["--listen", &listen, "--data"])
            .arg(self.p("data"))
            .env_remove("TRANSIT_LOG")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening on http://"), "{line}");
        (Kid(child), format!("http://{listen}"))
    }
}

#[test]
fn update_provider_init_adds_the_first_console_user_without_the_password_on_the_command_line() {
    let s = Setup::new();
    s.init("admin", "correct horse battery").success();
    // The same name again (any case) is refused; nothing changes.
    s.init("ADMIN", "another password").exit(Exit::Refused);
    // A short password or an empty name are usage errors.
    s.init("carol", "short").exit(Exit::Usage);
    s.init(" ", "long enough password").exit(Exit::Usage);
    // Without a password file or variable, and no terminal: a clear usage error.
    transit(&s.root())
        .args(["update", "provider", "init", "--admin", "dave", "--data"])
        .arg(s.p("data"))
        .write_stdin("")
        .assert()
        .exit(Exit::Usage)
        .stderr(predicates::str::contains("--password-file"));
    // From an environment variable.
    transit(&s.root())
        .args(["update", "provider", "init", "--admin", "erin", "--data"])
        .arg(s.p("data"))
        .args(["--password-env", "ERIN_PW"])
        .env("ERIN_PW", "erins long password")
        .assert()
        .success();
    // Stored as argon2 hashes, never the password itself.
    let db = std::fs::read(s.p("data/provider.db")).unwrap();
    let text = String::from_utf8_lossy(&db);
    assert!(text.contains("$argon2id$"));
    assert!(!text.contains("correct horse battery"));
    // Without a repository in the data folder: refused with the reason.
    let file = s.p("admin.pw");
    transit(&s.root())
        .args(["update", "provider", "init", "--admin", "x", "--data"])
        .arg(s.p("nowhere"))
        .arg("--password-file")
        .arg(&file)
        .assert()
        .failure();
}

/// node, chromium and the npm package, or a skip.
fn browser_tools(dir: &Path) -> Option<(String, String)> {
    let node = transit_testkit::tools::tool_or_skip(&["node"], "apt-get install nodejs npm")?;
    let chromium = transit_testkit::tools::tool_or_skip(
        &["chromium", "chromium-browser"],
        "apt-get install chromium",
    )?;
    if !dir.join("node_modules/playwright-core").is_dir() {
        return transit_testkit::tools::skip(
            "playwright-core",
            "npm ci in crates/cli/tests/browser",
        );
    }
    let path = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {chromium}")])
        .output()
        .unwrap();
    Some((
        node.to_string(),
        String::from_utf8_lossy(&path.stdout).trim().to_string(),
    ))
}

#[test]
fn update_console_in_a_real_browser() {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let Some((node, chromium)) = browser_tools(&scripts) else {
        return;
    };
    let s = Setup::new();
    let p3 = s.bundle(3);
    let p4 = s.bundle(4);
    let out = transit(&s.root())
        .args(["update", "add", "--json", "--data"])
        .arg(s.p("data"))
        .arg(&p3)
        .assert()
        .success();
    let id = json(&out.get_output().stdout)["id"].as_i64().unwrap();
    s.init("admin", "correct horse battery").success();
    let (_provider, url) = s.provider();
    // Machines and activity to look at.
    transit(&s.root())
        .args(["update", "simulate", "--clients", "20", "--rate", "40"])
        .args(["--duration", "1", "--provider", &url])
        .assert()
        .success();

    let shots = std::env::var_os("TRANSIT_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| s.p("screenshots"));
    let run = std::process::Command::new(node)
        .arg(scripts.join("console.mjs"))
        .current_dir(&scripts)
        .env("BASE_URL", &url)
        .env("USER", "admin")
        .env("PASSWORD", "correct horse battery")
        .env("UPDATE_ID", id.to_string())
        .env("BUNDLE", &p4)
        .env("SHOTS", &shots)
        .env("CHROMIUM", chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "the browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("browser test passed"), "{stdout}");
    // A screenshot of each page.
    for page in [
        "login",
        "about",
        "activity",
        "report",
        "configuration",
        "machines",
        "groups",
        "updates",
    ] {
        let f = shots.join(format!("console-{page}.png"));
        let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(bytes.starts_with(b"\x89PNG"), "{}", f.display());
    }
    // What the browser did is what the provider now holds.
    let out = transit(&s.root())
        .args(["update", "updates", "list", "--json", "--provider", &url])
        .assert()
        .success();
    let updates = json(&out.get_output().stdout);
    let first = updates
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap();
    assert_eq!(first["state"], "GA");
    assert_eq!(first["high_priority"], true);
    assert_eq!(
        updates.as_array().unwrap().len(),
        2,
        "the upload was ingested"
    );
    let out = transit(&s.root())
        .args(["update", "groups", "list", "--json", "--provider", &url])
        .assert()
        .success();
    let groups = json(&out.get_output().stdout);
    assert_eq!(groups.as_array().unwrap().len(), 1, "North was deleted");
    assert_eq!(groups[0]["members"], 20, "its members are back in Default");
}
