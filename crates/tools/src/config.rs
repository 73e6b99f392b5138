//! What the user configures for one MCP server, and the checks it must pass.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::{Result, ToolError};

/// The longest server name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// One MCP server: its name and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Lowercase letters, digits, `-` and `_`; at most [`MAX_NAME_LEN`] characters.
    pub name: String,
    /// How to reach it.
    pub transport: Transport,
}

/// How a server is reached.
#[derive(Clone, PartialEq, Eq)]
pub enum Transport {
    /// A child process speaking JSON-RPC on its stdin and stdout.
    Stdio {
        /// The program to run (a path, or a name looked up in `PATH`).
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Variables the server gets on top of `PATH`, `HOME` and `LANG`; nothing else
        /// of Hearth's environment is passed on.
        env: BTreeMap<String, String>,
    },
    /// A Streamable HTTP endpoint.
    Http {
        /// `https://`, or `http://` to a loopback address only; no credentials in it.
        url: String,
        /// Extra request headers, for example `Authorization`.
        headers: BTreeMap<String, String>,
    },
}

// Headers and environment values may hold tokens, so `Debug` shows only their names.
impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("ServerConfig");
        s.field("name", &self.name);
        match &self.transport {
            Transport::Stdio { command, args, env } => s
                .field("command", command)
                .field("args", args)
                .field("env", &env.keys().collect::<Vec<_>>()),
            Transport::Http { url, headers } => s
                .field("url", url)
                .field("headers", &headers.keys().collect::<Vec<_>>()),
        };
        s.finish()
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Stdio { command, .. } => write!(f, "Stdio({command})"),
            Transport::Http { url, .. } => write!(f, "Http({url})"),
        }
    }
}

impl ServerConfig {
    /// Checks the name, and the command or URL; returns the first problem found.
    pub fn validate(&self) -> Result<()> {
        validate_name(&self.name)?;
        match &self.transport {
            Transport::Stdio { command, env, .. } => {
                if command.trim().is_empty() {
                    return Err(self.invalid("the command is empty"));
                }
                for key in env.keys() {
                    if key.is_empty() || key.contains('=') || key.contains('\0') {
                        return Err(self
                            .invalid(format!("{key:?} is not a valid environment variable name")));
                    }
                }
                if env.values().any(|v| v.contains('\0')) {
                    return Err(self.invalid("an environment value contains a NUL byte"));
                }
                Ok(())
            }
            Transport::Http { url, headers } => {
                validate_url(url).map_err(|reason| self.invalid(reason))?;
                for (key, value) in headers {
                    if reqwest_mcp::header::HeaderName::from_bytes(key.as_bytes()).is_err()
                        || reqwest_mcp::header::HeaderValue::from_str(value).is_err()
                    {
                        return Err(self.invalid(format!("the header {key:?} is not valid")));
                    }
                }
                Ok(())
            }
        }
    }

    fn invalid(&self, reason: impl Into<String>) -> ToolError {
        ToolError::InvalidConfig {
            server: self.name.clone(),
            reason: reason.into(),
        }
    }
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ToolError::InvalidConfig {
            server: name.to_owned(),
            reason: format!(
                "a server name is 1 to {MAX_NAME_LEN} lowercase letters, digits, '-' or '_'"
            ),
        })
    }
}

/// `https://` anywhere, `http://` only to loopback, never a user name or password.
pub(crate) fn validate_url(raw: &str) -> std::result::Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("the URL is not valid: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not contain a user name or password; use a header".into());
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err("plain http:// is allowed only to this machine (localhost, 127.0.0.0/8, ::1); use https://".into()),
        _ => Err("the URL must start with https:// (or http:// to this machine)".into()),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(url: &str) -> ServerConfig {
        ServerConfig {
            name: "web".into(),
            transport: Transport::Http {
                url: url.into(),
                headers: BTreeMap::new(),
            },
        }
    }

    #[test]
    fn names_are_lowercase_words_up_to_64() {
        for good in ["a", "files", "my_server-2", &"x".repeat(64)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Files", "a b", "a/b", "é", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_are_https_or_loopback_http_without_credentials() {
        for good in [
            "https://example.com/mcp",
            "http://localhost:8000/mcp",
            "http://127.0.0.1:1/mcp",
            "http://127.9.9.9/mcp",
            "http://[::1]:80/mcp",
        ] {
            assert!(http(good).validate().is_ok(), "{good}");
        }
        for bad in [
            "http://example.com/mcp",
            "http://10.0.0.1/mcp",
            "http://localhost.example.com/mcp",
            "https://user:pw@example.com/mcp",
            "https://token@example.com/mcp",
            "ftp://example.com",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(http(bad).validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_header_values() {
        let mut headers = BTreeMap::new();
        headers.insert("authorization".to_owned(), "Bearer sk-secret".to_owned());
        let config = ServerConfig {
            name: "web".into(),
            transport: Transport::Http {
                url: "https://example.com".into(),
                headers,
            },
        };
        let shown = format!("{config:?}");
        assert!(shown.contains("authorization") && !shown.contains("sk-secret"));
    }
}
