//! Helpers of the CLI tests, on top of `transit-testkit`: servers made by
//! the real binary, and registry exports.

#![allow(dead_code)]

use std::path::Path;
pub use transit_testkit::tools::tool_or_skip;
pub use transit_testkit::{transit, Exit, ExitAssert, Sample};

/// Creates an empty CIC server root (`transit server init`).
pub fn init(root: &Path, name: &str, site_id: u32) {
    let sample = Sample::cic(name).site("Indy", site_id);
    let mut args = sample.demo_args();
    args[1] = "init".into();
    let cut = args.iter().position(|a| a == "--users").expect("demo args");
    args.truncate(cut);
    transit(root).args(&args).assert().success();
}

/// Creates a demo CIC server `CIC01` at site `Indy` #1 (`transit server demo`).
pub fn demo(root: &Path, users: u64, seed: u64) {
    let sample = Sample::cic("CIC01").users(users).seed(seed);
    transit(root).args(sample.demo_args()).assert().success();
}

/// Creates a small demo CIC server (40 users) with its own identity.
pub fn demo_named(root: &Path, name: &str, site: &str, site_id: u32, release: &str, seed: u64) {
    let sample = Sample::cic(name)
        .site(site, site_id)
        .release(release)
        .seed(seed);
    transit(root).args(sample.demo_args()).assert().success();
}

/// `transit registry export` of the whole registry to a file; returns its bytes.
pub fn export(root: &Path, out: &Path) -> Vec<u8> {
    transit(root)
        .args(["registry", "export", "--output"])
        .arg(out)
        .assert()
        .success();
    std::fs::read(out).unwrap()
}
