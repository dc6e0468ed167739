//! Shared by the update service's suites (transit-update, transit-provider):
//! a runtime for their async calls and a bundle manifest.

/// A two-worker multi-thread runtime (a running provider and the test's
/// client calls can share it; a current-thread test is fine on it too).
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A complete update manifest (every vendor field) for `application`
/// `release` patch `patch`, install type `kind` (Install, Patch, ES),
/// install version `version`, published by Genesys.
pub fn manifest(application: &str, release: &str, patch: u16, kind: &str, version: &str) -> String {
    format!(
        r#"application = "{application}"
release = "{release}"
patch = {patch}
install_type = "{kind}"
install_version = "{version}"
upgrade_code = "{{9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}}"
product_code = "{{1A2B3C4D-0000-4E3F-A6ED-D21BB0B29D01}}"
high_priority = false
documentation = "https://help.example.com/pureconnect"
related_installs = []
publisher = "Genesys"

[installer_properties]
providerservername = "cic01.example.com"
"#
    )
}
