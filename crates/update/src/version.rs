//! The vendor's install version, `MM.mm.PP.BB`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An install version `MM.mm.PP.BB`: major release number (`18` for
/// 2018), minor release number (`01` for R1), patch, build. Versions
/// order numerically, part by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstallVersion {
    /// `MM`: the major release number (the year's last two digits).
    pub major: u16,
    /// `mm`: the minor release number (the `Rn` of the release).
    pub minor: u16,
    /// `PP`: the patch number (0 for the release's GA install).
    pub patch: u16,
    /// `BB`: the build number.
    pub build: u16,
}

/// Why an install version string is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an install version (expected MM.mm.PP.BB, such as 18.01.03.12)")]
pub struct BadVersion(pub String);

impl InstallVersion {
    /// A version from its four parts.
    pub const fn new(major: u16, minor: u16, patch: u16, build: u16) -> InstallVersion {
        InstallVersion {
            major,
            minor,
            patch,
            build,
        }
    }
}

impl FromStr for InstallVersion {
    type Err = BadVersion;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadVersion(text.to_string());
        let parts: Vec<&str> = text.trim().split('.').collect();
        if parts.len() != 4 {
            return Err(bad());
        }
        let mut n = [0u16; 4];
        for (slot, part) in n.iter_mut().zip(&parts) {
            if part.is_empty() || part.len() > 5 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *slot = part.parse().map_err(|_| bad())?;
        }
        Ok(InstallVersion::new(n[0], n[1], n[2], n[3]))
    }
}

impl fmt::Display for InstallVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}.{:02}.{:02}.{:02}",
            self.major, self.minor, self.patch, self.build
        )
    }
}

impl Serialize for InstallVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InstallVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_orders_and_prints() {
        let v: InstallVersion = "18.1.3.12".parse().unwrap();
        assert_eq!(v, InstallVersion::new(18, 1, 3, 12));
        assert_eq!(v.to_string(), "18.01.03.12");
        assert!(v < "18.01.03.100".parse().unwrap());
        assert!(v < "18.02.00.01".parse().unwrap());
        assert!(v > "17.04.09.999".parse().unwrap());
        for bad in [
            "",
            "18.1.3",
            "18.1.3.12.1",
            "18.a.3.1",
            "18..3.1",
            "-1.1.1.1",
            "70000.1.1.1",
        ] {
            assert!(bad.parse::<InstallVersion>().is_err(), "{bad}");
        }
    }
}
