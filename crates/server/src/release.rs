//! Product releases: the legacy `X.Y` numbering and the `YYYY Rn` one.

use std::fmt;
use std::str::FromStr;

/// A product release such as `2015 R1`, or a legacy one such as `3.0`.
/// Releases order chronologically: every legacy release precedes `2015 R1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProductRelease {
    /// A pre-2015 release, `major.minor` (such as `2.4`, `3.0`, `4.0`).
    Legacy {
        /// The major number.
        major: u8,
        /// The minor number.
        minor: u8,
    },
    /// A `YYYY Rn` release from `2015 R1` to `2025 R4`.
    Yearly {
        /// The year, 2015 to 2025.
        year: u16,
        /// The release in the year, 1 to 4.
        release: u8,
    },
}

/// Why a release string is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a product release (expected `2015 R1` … `2025 R4`, or a legacy `X.Y` such as `3.0`)")]
pub struct BadRelease(pub String);

impl ProductRelease {
    /// The first release with yearly numbering.
    pub const FIRST_YEARLY: ProductRelease = ProductRelease::Yearly {
        year: 2015,
        release: 1,
    };

    /// True for `3.0` and anything older, which the Migrator refuses as a source.
    pub fn is_3_0_or_older(self) -> bool {
        self <= ProductRelease::Legacy { major: 3, minor: 0 }
    }
}

impl FromStr for ProductRelease {
    type Err = BadRelease;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadRelease(text.to_string());
        let t = text.trim();
        if let Some((year, rel)) = t.split_once(' ') {
            let year: u16 = year.parse().map_err(|_| bad())?;
            let rel = rel.trim();
            let n = rel
                .strip_prefix('R')
                .or_else(|| rel.strip_prefix('r'))
                .ok_or_else(bad)?;
            let release: u8 = n.parse().map_err(|_| bad())?;
            if !(2015..=2025).contains(&year) || !(1..=4).contains(&release) {
                return Err(bad());
            }
            return Ok(ProductRelease::Yearly { year, release });
        }
        let (major, minor) = t.split_once('.').ok_or_else(bad)?;
        let major: u8 = major.parse().map_err(|_| bad())?;
        let minor: u8 = minor.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&major) || minor > 9 {
            return Err(bad());
        }
        Ok(ProductRelease::Legacy { major, minor })
    }
}

impl fmt::Display for ProductRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProductRelease::Legacy { major, minor } => write!(f, "{major}.{minor}"),
            ProductRelease::Yearly { year, release } => write!(f, "{year} R{release}"),
        }
    }
}

impl serde::Serialize for ProductRelease {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ProductRelease {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_releases() {
        let r = |s: &str| s.parse::<ProductRelease>().unwrap();
        assert!(r("3.0") < r("4.0"));
        assert!(r("4.0") < r("2015 R1"));
        assert!(r("2015 R4") < r("2016 R1"));
        assert_eq!(r("2018 R3").to_string(), "2018 R3");
        assert!(r("3.0").is_3_0_or_older());
        assert!(r("2.4").is_3_0_or_older());
        assert!(!r("4.0").is_3_0_or_older());
        for bad in ["", "2015", "2015 R5", "2026 R1", "R1", "x.y", "2015 Q1"] {
            assert!(bad.parse::<ProductRelease>().is_err(), "{bad}");
        }
    }
}
