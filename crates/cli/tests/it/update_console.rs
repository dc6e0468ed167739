//! The provider's web console: `transit update provider init --admin`,
//! and the browser tests — a real provider (the binary), driven in two
//! browsers, headless: Debian's Chromium by Playwright (`playwright-core`
//! from npm, crates/cli/tests/browser/console.mjs), and Debian's Firefox
//! ESR over WebDriver BiDi by `puppeteer-core` (console-firefox.mjs). Each
//! skips loudly without node, its browser or its npm package, and fails
//! instead under `TRANSIT_REQUIRE_TOOLS=1` (CI, where `.ci/run` installs them).

use crate::common::{transit, Exit, ExitAssert};
use crate::update_client::{free_port, json, Fixture, Kid};
use std::path::{Path, PathBuf};

/// The update client tests' fixture (a data folder with a repository and
/// a trusted publisher), plus what the console tests add to it.
struct Setup {
    f: Fixture,
}

impl Setup {
    fn new() -> Setup {
        Setup { f: Fixture::new() }
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.f.p(rel)
    }

    fn root(&self) -> PathBuf {
        self.f.root()
    }

    /// A signed bundle of Interaction Desktop 2018 R1 at `patch`.
    fn bundle(&self, patch: u16) -> PathBuf {
        let payload = self.f.payload(
            &format!("payload{patch}"),
            &[("setup.bin", vec![patch as u8; 200_000])],
            None,
        );
        self.f.bundle(&payload, patch, "")
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
        self.f.provider("data", free_port())
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

/// node and the npm package `package` (in the browser tests' node_modules),
/// then the full path of the first of `browsers` on the PATH; or a skip.
fn browser_tools(
    dir: &Path,
    package: &str,
    browsers: &[&str],
    install: &str,
) -> Option<(String, String)> {
    let node = transit_testkit::tools::tool_or_skip(&["node"], "apt-get install nodejs npm")?;
    let browser = transit_testkit::tools::tool_or_skip(browsers, install)?;
    if !dir.join("node_modules").join(package).is_dir() {
        return transit_testkit::tools::skip(package, "npm ci in crates/cli/tests/browser");
    }
    let path = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {browser}")])
        .output()
        .unwrap();
    Some((
        node.to_string(),
        String::from_utf8_lossy(&path.stdout).trim().to_string(),
    ))
}

/// The folder of the browser test scripts (and their node_modules).
fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// What each browser's journey starts from: a running provider with an
/// update in Pre-Approval, 20 simulated machines and their activity, the
/// console user `admin`, a second bundle to upload, and (with
/// `TRANSIT_TEST_PG`) a shared database for Manage Database's Copy.
///
/// Fields drop in order: the provider stops before its folder goes.
struct Journey {
    _provider: Kid,
    shared: Option<crate::update_switchover::SharedDb>,
    s: Setup,
    /// The update in Pre-Approval.
    id: i64,
    /// The bundle the browser uploads.
    upload: PathBuf,
    url: String,
    /// Where the screenshots go (`TRANSIT_SCREENSHOTS`, or the test's folder).
    shots: PathBuf,
}

impl Journey {
    /// `tag` names the shared database (one per browser).
    fn new(tag: &str) -> Journey {
        let s = Setup::new();
        let p3 = s.bundle(3);
        let upload = s.bundle(4);
        let out = transit(&s.root())
            .args(["update", "add", "--json", "--data"])
            .arg(s.p("data"))
            .arg(&p3)
            .assert()
            .success();
        let id = json(&out.get_output().stdout)["id"].as_i64().unwrap();
        s.init("admin", "correct horse battery").success();
        let (provider, url) = s.provider();
        // Machines and activity to look at.
        transit(&s.root())
            .args(["update", "simulate", "--clients", "20", "--rate", "40"])
            .args(["--duration", "1", "--provider", &url])
            .assert()
            .success();
        let shared = crate::update_switchover::SharedDb::new(tag);
        let shots = std::env::var_os("TRANSIT_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| s.p("screenshots"));
        Journey {
            _provider: provider,
            shared,
            s,
            id,
            upload,
            url,
            shots,
        }
    }

    /// Runs `script` with node, the browser's path in `browser_var`;
    /// asserts it succeeded and printed `passed`.
    fn run(&self, node: &str, script: &str, browser_var: &str, browser: &str, passed: &str) {
        let run = std::process::Command::new(node)
            .arg(scripts().join(script))
            .current_dir(scripts())
            .env("BASE_URL", &self.url)
            .env("USER", "admin")
            .env("PASSWORD", "correct horse battery")
            .env("UPDATE_ID", self.id.to_string())
            .env("BUNDLE", &self.upload)
            .env("SHOTS", &self.shots)
            .env(browser_var, browser)
            .env(
                "SHARED_DB",
                self.shared.as_ref().map_or("", |d| d.url.as_str()),
            )
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{script} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(stdout.contains(passed), "{stdout}");
    }

    /// A PNG screenshot of each page, named `<prefix>-<page>.png`.
    fn assert_screenshots(&self, prefix: &str) {
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
            let f = self.shots.join(format!("{prefix}-{page}.png"));
            let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert!(bytes.starts_with(b"\x89PNG"), "{}", f.display());
        }
    }

    /// What the browser did is what the provider now holds: the update GA
    /// and High Priority, the upload ingested, North deleted and all 20
    /// machines back in Default.
    fn assert_provider_holds_what_the_browser_did(&self) {
        let out = transit(&self.s.root())
            .args([
                "update",
                "updates",
                "list",
                "--json",
                "--provider",
                &self.url,
            ])
            .assert()
            .success();
        let updates = json(&out.get_output().stdout);
        let first = updates
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == self.id)
            .unwrap();
        assert_eq!(first["state"], "GA");
        assert_eq!(first["high_priority"], true);
        assert_eq!(
            updates.as_array().unwrap().len(),
            2,
            "the upload was ingested"
        );
        let out = transit(&self.s.root())
            .args([
                "update",
                "groups",
                "list",
                "--json",
                "--provider",
                &self.url,
            ])
            .assert()
            .success();
        let groups = json(&out.get_output().stdout);
        assert_eq!(groups.as_array().unwrap().len(), 1, "North was deleted");
        assert_eq!(groups[0]["members"], 20, "its members are back in Default");
    }
}

#[test]
fn update_console_in_a_real_browser() {
    let Some((node, chromium)) = browser_tools(
        &scripts(),
        "playwright-core",
        &["chromium", "chromium-browser"],
        "apt-get install chromium",
    ) else {
        return;
    };
    let j = Journey::new("console");
    j.run(
        &node,
        "console.mjs",
        "CHROMIUM",
        &chromium,
        "browser test passed",
    );
    j.assert_screenshots("console");
    j.assert_provider_holds_what_the_browser_did();
}

/// The same journey in stock Firefox ESR (Debian's `firefox-esr`) over
/// WebDriver BiDi, driven by `puppeteer-core`: crates/cli/tests/browser/console-firefox.mjs.
#[test]
fn update_console_in_firefox() {
    let Some((node, firefox)) = browser_tools(
        &scripts(),
        "puppeteer-core",
        &["firefox-esr", "firefox"],
        "apt-get install firefox-esr",
    ) else {
        return;
    };
    let j = Journey::new("console_ff");
    j.run(
        &node,
        "console-firefox.mjs",
        "FIREFOX",
        &firefox,
        "firefox test passed",
    );
    j.assert_screenshots("firefox");
    j.assert_provider_holds_what_the_browser_did();
}
