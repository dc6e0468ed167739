//! External tools and services the tests drive for real.
//!
//! On a developer machine a missing one skips the test with a
//! `SKIPPED: …` line; under `TRANSIT_REQUIRE_TOOLS=1` (CI) it fails the
//! test instead.

/// True when `tool` is on the PATH.
pub fn which(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// True when tests must not skip (CI sets `TRANSIT_REQUIRE_TOOLS=1`).
pub fn required() -> bool {
    std::env::var_os("TRANSIT_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Skips (returns `None` after printing why), or fails under
/// `TRANSIT_REQUIRE_TOOLS`, for a missing prerequisite.
pub fn skip<T>(what: &str, install: &str) -> Option<T> {
    assert!(!required(), "{what} is required here ({install})");
    eprintln!("SKIPPED: {what} is not available ({install})");
    None
}

/// The first of `tools` on the PATH, or a skip.
pub fn tool_or_skip<'a>(tools: &[&'a str], install: &str) -> Option<&'a str> {
    match tools.iter().copied().find(|t| which(t)) {
        Some(tool) => Some(tool),
        None => skip(&tools.join(" or "), install),
    }
}

/// The value of environment variable `var` (such as a test database URL),
/// or a skip.
pub fn env_or_skip(var: &str, install: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => skip(&format!("${var}"), install),
    }
}
