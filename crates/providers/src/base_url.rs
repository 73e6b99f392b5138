//! Checking a provider base URL before Hearth will ever send a key to it.

use std::net::IpAddr;

use url::{Host, Url};

/// Why a base URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    /// Not a URL at all.
    #[error("`{0}` is not a URL (expected something like https://api.example.com/v1)")]
    Malformed(String),
    /// Plain HTTP to a host that is not this machine.
    #[error("`{0}` uses plain http to another machine; Hearth only sends keys and conversations over https, except to this machine (localhost, 127.0.0.1, ::1)")]
    InsecureRemote(String),
    /// Neither http nor https.
    #[error("`{0}` is not an http(s) URL")]
    Scheme(String),
    /// Credentials, query or fragment in the base URL.
    #[error(
        "`{0}` must not contain a user name, password, query or fragment; keys go in the key store"
    )]
    Extras(String),
}

/// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// Checks a request URL (a base URL plus endpoint path and query) against the transport
/// policy: https, or http to this machine only.
pub fn check_request_url(text: &str) -> Result<(), BaseUrlError> {
    let url = Url::parse(text).map_err(|_| BaseUrlError::Malformed(text.to_owned()))?;
    let host = url
        .host()
        .ok_or_else(|| BaseUrlError::Malformed(text.to_owned()))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&host) => Ok(()),
        "http" => Err(BaseUrlError::InsecureRemote(text.to_owned())),
        _ => Err(BaseUrlError::Scheme(text.to_owned())),
    }
}

/// Whether a URL points at this machine.
pub fn is_loopback_url(text: &str) -> bool {
    Url::parse(text.trim())
        .ok()
        .and_then(|u| u.host().map(|h| is_loopback(&h)))
        .unwrap_or(false)
}

/// Whether two URLs name the same origin (scheme, host and port): a key configured for
/// one would reach the same server through the other. Unparseable URLs match nothing.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (Url::parse(a.trim()), Url::parse(b.trim())) {
        (Ok(a), Ok(b)) => a.origin().is_tuple() && a.origin() == b.origin(),
        _ => false,
    }
}

/// Checks a base URL and returns it normalised (no trailing slash).
///
/// HTTPS is required, except to loopback addresses where local model servers run.
pub fn check_base_url(text: &str) -> Result<String, BaseUrlError> {
    let trimmed = text.trim();
    let url = Url::parse(trimmed).map_err(|_| BaseUrlError::Malformed(trimmed.to_owned()))?;
    let host = url
        .host()
        .ok_or_else(|| BaseUrlError::Malformed(trimmed.to_owned()))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => return Err(BaseUrlError::InsecureRemote(trimmed.to_owned())),
        _ => return Err(BaseUrlError::Scheme(trimmed.to_owned())),
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(BaseUrlError::Extras(trimmed.to_owned()));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = "https://api.openai.com/v1";
        assert!(same_origin(a, "https://API.openai.com:443/v2/"));
        assert!(!same_origin(a, "https://api.openai.com.evil.example/v1"));
        assert!(!same_origin(a, "http://api.openai.com/v1"));
        assert!(!same_origin(a, "https://api.openai.com:8443/v1"));
        assert!(!same_origin(
            "http://localhost:11434/v1",
            "http://localhost:11435/v1"
        ));
        assert!(!same_origin("not a url", "not a url"));
    }

    #[test]
    fn https_anywhere_http_only_to_this_machine() {
        assert_eq!(
            check_base_url("https://api.openai.com/v1/").unwrap(),
            "https://api.openai.com/v1"
        );
        assert!(check_base_url("http://localhost:11434/v1").is_ok());
        assert!(check_base_url("http://127.0.0.5:8080/v1").is_ok());
        assert!(check_base_url("http://[::1]:1234/v1").is_ok());
        assert!(matches!(
            check_base_url("http://192.168.1.10:11434/v1"),
            Err(BaseUrlError::InsecureRemote(_))
        ));
        assert!(matches!(
            check_base_url("http://localhost.evil.com/v1"),
            Err(BaseUrlError::InsecureRemote(_))
        ));
        assert!(matches!(
            check_base_url("ftp://example.com"),
            Err(BaseUrlError::Scheme(_))
        ));
        assert!(matches!(
            check_base_url("not a url"),
            Err(BaseUrlError::Malformed(_))
        ));
        assert!(matches!(
            check_base_url("https://user:pw@example.com/v1"),
            Err(BaseUrlError::Extras(_))
        ));
        assert!(matches!(
            check_base_url("https://example.com/v1?key=sk"),
            Err(BaseUrlError::Extras(_))
        ));
    }
}
