//! Names that end up in scripts, Makefiles and control files, checked once when the spec is
//! read: an environment variable name, a systemd unit name, a host. Code that writes one of
//! them gets the checked type, never the raw string, so no spec value can become code there.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// A string checked by `$check` when it is read: a newtype that derefs to `str`, orders and
/// borrows as its text, and (de)serializes as a plain string whose errors are at its position.
macro_rules! checked_name {
    ($(#[$m:meta])* $name:ident, $check:path) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks `text`; the error says what is wrong with it.
            pub fn parse(text: &str) -> Result<$name, String> {
                $check(text).map(|()| $name(text.to_string()))
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        #[cfg(test)]
        crate::parsed::schema_as_string!(impl for $name);
    };
}

checked_name!(
    /// An environment variable name: a letter or `_`, then letters, digits and `_` (POSIX's
    /// portable names, the only ones a shell can `export`).
    EnvName,
    check_env_name
);

checked_name!(
    /// A host name with an optional port (see [`check_host`]).
    Host,
    check_host
);

checked_name!(
    /// A package name in a dependency list (see [`check_dependency_name`]).
    DependencyName,
    check_dependency_name
);

/// Checks an environment variable name (see [`EnvName`]).
pub fn check_env_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "invalid environment variable name {name:?}: use letters, digits and '_', not starting with a digit"
        ))
    }
}

/// The unit types systemd knows, as file name suffixes.
const UNIT_SUFFIXES: &[&str] = &[
    ".service",
    ".socket",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".target",
    ".path",
    ".timer",
    ".slice",
    ".scope",
];

/// Checks a systemd unit file name as systemd does (`unit_name_is_valid`): at most 255
/// characters of letters, digits and `:-_.\@`, a unit type suffix, no `/`. Such a name is
/// inert in a shell word, a Makefile and a path.
pub fn check_unit_name(name: &str) -> Result<(), String> {
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c));
    let suffix_ok = UNIT_SUFFIXES
        .iter()
        .any(|s| name.len() > s.len() && name.ends_with(s));
    if chars_ok && suffix_ok && name.len() <= 255 && !name.starts_with('.') {
        Ok(())
    } else {
        Err(format!(
            "invalid systemd unit name {name:?}: use letters, digits and ':-_.\\@' and end in a unit type such as .service, .socket or .timer"
        ))
    }
}

/// Checks a host name with an optional port (`git.example.com`, `example.com:8443`), as
/// private Go module hosts are given.
pub fn check_host(host: &str) -> Result<(), String> {
    // A host written with a build arg is checked once the arg is substituted.
    if crate::args::has_reference(host) {
        return Ok(());
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let name_ok = !name.is_empty() && name.len() <= 253 && name.split('.').all(label_ok);
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if name_ok && port_ok {
        Ok(())
    } else {
        Err(format!(
            "invalid host {host:?}: expected a host name with an optional port, such as git.example.com or example.com:8443"
        ))
    }
}

/// Checks a value that is written on one line of a control file or a changelog (a packager,
/// a maintainer, a homepage): no line breaks or other control characters.
pub fn check_single_line(what: &str, value: &str) -> Result<(), String> {
    match value.chars().find(|c| c.is_control()) {
        None => Ok(()),
        Some(c) => Err(format!(
            "{what} must be one line of text: it contains {}",
            match c {
                '\n' => "a line break".to_string(),
                '\r' => "a carriage return".to_string(),
                '\t' => "a tab".to_string(),
                c => format!("the control character U+{:04X}", c as u32),
            }
        )),
    }
}

/// Checks a package name in a dependency list: no white space, control characters or the
/// characters that separate relations (`,`, `|`), whatever the family.
pub fn check_dependency_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("package name must not be empty".into());
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || ",|".contains(c))
    {
        return Err(format!(
            "invalid package name {name:?}: no white space, control characters, ',' or '|'"
        ));
    }
    Ok(())
}

/// Checks a user or group name: a letter or `_`, then letters, digits, `_`, `-` and `.`, with
/// an optional final `$` (as useradd takes them), at most 32 characters.
pub fn check_account_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("user and group names must not be empty".into());
    }
    let body = name.strip_suffix('$').unwrap_or(name);
    let mut chars = body.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && name.len() <= 32;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid user or group name {name:?}: use letters, digits, '_', '-' and '.', starting with a letter or '_' (at most 32 characters)"
        ))
    }
}

/// Whether `path` (relative, `/`-separated) stays where it is put: no `..` component, not
/// absolute.
pub fn stays_inside(path: &str) -> bool {
    !path.starts_with('/') && !path.split('/').any(|c| c == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_shell_names() {
        assert!(EnvName::parse("CGO_ENABLED").is_ok());
        assert!(EnvName::parse("_x1").is_ok());
        for bad in ["", "1A", "A=B", "A B", "X=1; touch ../PWNED; Y", "A-B", "É"] {
            assert!(EnvName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unit_names_follow_systemd() {
        for good in [
            "hello.service",
            "getty@tty1.service",
            "foo\\x2dbar.mount",
            "a.timer",
        ] {
            assert!(check_unit_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".service",
            "$(shell touch /tmp/x).service",
            "a\nb.service",
            "a b.service",
            "../x.service",
            "x.conf",
            "a/b.service",
        ] {
            assert!(check_unit_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hosts_are_host_names() {
        for good in ["git.example.com", "localhost:8080", "a-b.c"] {
            assert!(check_host(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a\"b",
            "x\"; touch /tmp/p; \"",
            "a/b",
            "a:0",
            "a:99999",
            "-a.com",
            "a..b",
        ] {
            assert!(check_host(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn single_lines_and_dependency_names() {
        assert!(check_single_line("packager", "A <a@b.c>").is_ok());
        let e = check_single_line("packager", "A\nEssential: yes").unwrap_err();
        assert_eq!(
            e,
            "packager must be one line of text: it contains a line break"
        );
        assert!(check_dependency_name("libc6").is_ok());
        assert!(check_dependency_name("perl(Foo::Bar)").is_ok());
        for bad in ["", "a b", "a\nEssential: yes", "a,b", "a|b"] {
            assert!(check_dependency_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_account_name("hello").is_ok());
        assert!(check_account_name("svc-user").is_ok());
        for bad in ["", "1a", "a:b", "a b", "a\nb", "$(id)"] {
            assert!(check_account_name(bad).is_err(), "{bad:?}");
        }
        assert!(stays_inside("a/b"));
        assert!(!stays_inside("../a"));
        assert!(!stays_inside("a/../../b"));
        assert!(!stays_inside("/etc"));
    }
}
