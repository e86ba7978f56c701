//! What a Tollgate process reads from its surroundings: its settings
//! (environment variables, names fixed by docs/reference.md) and the wall clock.
//!
//! Every service reads its settings through [`Settings`], so a number, a
//! list or a flag means the same in the authorizer, the issuer, the rotation
//! Lambda and the local stack: a blank value is an unset one, numbers are
//! whole and may be bounded, lists are comma-separated, and a value that is
//! not what the setting takes is refused naming the variable (never silently
//! defaulted). Each reader takes a `lookup` so tests can pass a map instead
//! of mutating the process environment.
//!
//! ```
//! use environment::{Settings, SettingError};
//!
//! let settings = Settings::new(|name: &str| match name {
//!     "JWT_AUDIENCE" => Some("books-api, admin ".to_owned()),
//!     "TOKEN_TTL_SECONDS" => Some("0".to_owned()),
//!     "JWT_ALLOW_ID_TOKENS" => Some("yes".to_owned()),
//!     _ => None,
//! });
//! assert_eq!(settings.list("JWT_AUDIENCE"), ["books-api", "admin"]);
//! assert!(settings.flag("JWT_ALLOW_ID_TOKENS")?);
//! assert_eq!(settings.number("JWKS_MAX_AGE_SECONDS", 300)?, 300);
//! assert!(matches!(
//!     settings.number_in("TOKEN_TTL_SECONDS", 900, 1..=86_400),
//!     Err(SettingError::OutOfRange { name: "TOKEN_TTL_SECONDS", .. })
//! ));
//! # Ok::<(), SettingError>(())
//! ```

#![deny(missing_docs)]

use std::ops::RangeInclusive;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is before it): the clock
/// token lifetimes and key ages are counted against.
#[inline]
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A setting whose value is not what it takes; the message names it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// A numeric setting that is not a whole number.
    #[error("{name} must be a whole number, got {value:?}")]
    NotANumber {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: String,
    },
    /// A whole number outside the setting's bounds.
    #[error("{name} must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: u64,
        /// The least accepted value.
        min: u64,
        /// The greatest accepted value.
        max: u64,
    },
    /// A boolean setting that is not true/false (or 1/0, yes/no).
    #[error("{name} must be true or false, got {value:?}")]
    NotABool {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: String,
    },
}

/// Typed reads of settings through a `lookup` (the process environment,
/// or a map in tests).
#[derive(Clone, Copy, Debug)]
pub struct Settings<L> {
    lookup: L,
}

/// Reads the process environment.
pub fn process_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Settings<fn(&str) -> Option<String>> {
    /// Settings from the process environment.
    pub fn from_env() -> Self {
        Self::new(process_lookup)
    }
}

impl<L: Fn(&str) -> Option<String>> Settings<L> {
    /// Settings read through `lookup`.
    pub fn new(lookup: L) -> Self {
        Self { lookup }
    }

    /// The raw value, `None` when unset or blank (an empty variable is how
    /// Terraform and shells spell "not set").
    pub fn text(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// A comma-separated list, each item trimmed, empty items dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.text(name)
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A whole number, or `default` when unset.
    pub fn number(&self, name: &'static str, default: u64) -> Result<u64, SettingError> {
        match self.text(name) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| SettingError::NotANumber { name, value }),
        }
    }

    /// A whole number within `bounds`, or `default` when unset. The default
    /// is not checked: it is the code's own choice.
    pub fn number_in(
        &self,
        name: &'static str,
        default: u64,
        bounds: RangeInclusive<u64>,
    ) -> Result<u64, SettingError> {
        let value = self.number(name, default)?;
        if bounds.contains(&value) {
            return Ok(value);
        }
        Err(SettingError::OutOfRange {
            name,
            value,
            min: *bounds.start(),
            max: *bounds.end(),
        })
    }

    /// A flag (`true`/`false`, `1`/`0`, `yes`/`no`, any case), `false` when unset.
    pub fn flag(&self, name: &'static str) -> Result<bool, SettingError> {
        let Some(value) = self.text(name) else {
            return Ok(false);
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(SettingError::NotABool { name, value }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &'static str, value: &'static str) -> Settings<impl Fn(&str) -> Option<String>> {
        Settings::new(move |n: &str| (n == name).then(|| value.to_owned()))
    }

    #[test]
    fn blank_is_unset() {
        let settings = one("X", "  ");
        assert_eq!(settings.text("X"), None);
        assert_eq!(settings.number("X", 7), Ok(7));
        assert_eq!(settings.flag("X"), Ok(false));
        assert!(settings.list("X").is_empty());
    }

    #[test]
    fn numbers_are_whole_and_bounded() {
        assert_eq!(one("X", " 42 ").number("X", 0), Ok(42));
        for bad in ["-1", "1.5", "ten", "18446744073709551616"] {
            let error = one("X", bad).number("X", 0).unwrap_err();
            assert_eq!(
                error,
                SettingError::NotANumber {
                    name: "X",
                    value: bad.to_owned()
                }
            );
            assert!(error.to_string().contains("X"));
        }
        assert_eq!(one("X", "1").number_in("X", 5, 1..=3), Ok(1));
        assert_eq!(one("X", "3").number_in("X", 5, 1..=3), Ok(3));
        let error = one("X", "4").number_in("X", 5, 1..=3).unwrap_err();
        assert_eq!(error.to_string(), "X must be between 1 and 3, got 4");
        assert_eq!(one("Y", "4").number_in("X", 2, 1..=3), Ok(2));
    }

    #[test]
    fn flags_take_the_usual_spellings_only() {
        for yes in ["true", "TRUE", "1", "yes", " Yes "] {
            assert_eq!(one("F", yes).flag("F"), Ok(true), "{yes}");
        }
        for no in ["false", "0", "no", "NO"] {
            assert_eq!(one("F", no).flag("F"), Ok(false), "{no}");
        }
        for bad in ["on", "y", "2", "truthy"] {
            assert!(matches!(
                one("F", bad).flag("F"),
                Err(SettingError::NotABool { name: "F", .. })
            ));
        }
    }

    #[test]
    fn lists_are_trimmed_and_skip_empty_items() {
        assert_eq!(one("L", " a, ,b ,,c").list("L"), ["a", "b", "c"]);
        assert!(one("L", " , ").list("L").is_empty());
    }

    #[test]
    fn the_clock_is_after_2020() {
        assert!(unix_now() > 1_577_836_800);
    }
}
