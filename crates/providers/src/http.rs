//! The one HTTP client factory, and turning HTTP failures into typed errors.
//!
//! Every request Hearth makes to a provider goes through [`Http`]: rustls with the
//! operating system's roots, HTTPS only except to this machine, a connect timeout but no
//! total timeout (reasoning models can think for minutes; the stream readers apply an
//! idle timeout instead), and redirects followed only within the same origin, so a
//! provider key is never sent to another host.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::redirect;
use serde_json::Value;

use crate::error::{provider_code, scrub, ProviderError};

/// How long to wait for a TCP/TLS connection to a provider.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The most redirects followed (within the same origin).
const MAX_REDIRECTS: usize = 3;

/// The HTTP client every provider call uses. Building it opens no connection.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    /// Builds the client.
    pub fn new() -> Result<Http, ProviderError> {
        let policy = redirect::Policy::custom(|attempt| {
            let Some(first) = attempt.previous().first() else {
                return attempt.stop();
            };
            let same_origin = first.scheme() == attempt.url().scheme()
                && first.host_str() == attempt.url().host_str()
                && first.port_or_known_default() == attempt.url().port_or_known_default();
            if !same_origin || attempt.previous().len() > MAX_REDIRECTS {
                // Hand the 3xx back unfollowed: the key must not travel to another host.
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            // Straight to the provider: proxy variables in the environment are not read,
            // so a stray HTTP_PROXY cannot route conversations through someone else.
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(policy)
            .user_agent(concat!("Hearth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Config(format!("cannot set up HTTPS: {e}")))?;
        Ok(Http { client })
    }

    /// A request to `url`, refusing anything but https (or http to this machine).
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: HeaderMap,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        crate::check_request_url(url).map_err(|e| ProviderError::Config(e.to_string()))?;
        Ok(self.client.request(method, url).headers(headers))
    }
}

/// A header carrying a secret: marked sensitive so it never shows in debug output.
pub(crate) fn secret_header(value: &str) -> Result<HeaderValue, ProviderError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        ProviderError::Config("the API key contains characters that cannot be sent".into())
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// Maps a transport error to a typed error, without the URL (which is known anyway).
pub(crate) fn network_error(err: reqwest::Error, key: Option<&str>) -> ProviderError {
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    ProviderError::Network {
        message: scrub(&message, key),
    }
}

/// The human part of an error body, tried in the order providers use (PROTOCOLS §0.4).
pub(crate) fn error_message(body: &Value, raw: &str) -> String {
    let body = match body {
        Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    };
    let pick = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    pick(body.pointer("/error/message"))
        .or_else(|| pick(body.get("message")))
        .or_else(|| pick(body.get("detail")))
        .or_else(|| pick(body.get("error")))
        .unwrap_or_else(|| {
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                "no details".to_owned()
            } else {
                trimmed.to_owned()
            }
        })
}

/// The error's machine-readable types and codes, wherever the provider puts them. These
/// are for classifying only: one reaches a message only through [`provider_code`].
pub(crate) fn error_codes(body: &Value) -> Vec<String> {
    let body = match body {
        Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    };
    let mut codes = Vec::new();
    for pointer in ["/error/code", "/error/type", "/error/status", "/type"] {
        match body.pointer(pointer) {
            Some(Value::String(s)) => codes.push(s.clone()),
            Some(Value::Number(n)) => codes.push(n.to_string()),
            _ => {}
        }
    }
    for d in error_details(body) {
        if let Some(reason) = d.get("reason").and_then(Value::as_str) {
            codes.push(reason.to_owned());
        }
    }
    codes
}

/// The most `error.details` entries looked at: Google sends two or three.
const MAX_DETAILS: usize = 16;

/// Google's `error.details[]` (typed `google.rpc.*` messages), bounded.
fn error_details(body: &Value) -> impl Iterator<Item = &Value> {
    body.pointer("/error/details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_DETAILS)
}

/// The longest wait Hearth believes a provider asks for. Anything longer (or not a
/// number) is treated as "no wait given", not as a reason to wait for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A positive, finite wait in seconds within [`MAX_RETRY_AFTER`].
fn wait_from_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs > 0.0)
        .then(|| Duration::try_from_secs_f64(secs).ok())
        .flatten()
        .filter(|d| *d <= MAX_RETRY_AFTER)
}

/// How long the provider asked us to wait: `retry-after-ms`, then `retry-after` seconds.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if let Some(wait) = wait_from_secs(ms / 1000.0) {
            return Some(wait);
        }
    }
    text("retry-after")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(wait_from_secs)
}

/// The longest `retryDelay` text parsed (`"34.4s"`, `"0.5s"`, `"3600s"`).
const MAX_RETRY_DELAY_CHARS: usize = 24;

/// Gemini's wait, from a `google.rpc.RetryInfo` entry of `error.details[]`: its
/// `retryDelay` is a protobuf Duration, in JSON a decimal number of seconds followed by
/// `s`. Tolerant of an object form (`{"seconds": 34, "nanos": 400000000}`); anything
/// else is no wait.
pub(crate) fn retry_info(body: &Value) -> Option<Duration> {
    let body = match body {
        Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    };
    let info = error_details(body).find(|d| {
        d.get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
    })?;
    match info.get("retryDelay")? {
        Value::String(text) if text.len() <= MAX_RETRY_DELAY_CHARS => {
            let number = text.trim().strip_suffix('s')?;
            if !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return None;
            }
            wait_from_secs(number.parse().ok()?)
        }
        Value::Object(parts) => {
            let seconds = parts.get("seconds").map_or(Some(0.0), |s| match s {
                Value::Number(n) => n.as_f64(),
                Value::String(t) if t.len() <= MAX_RETRY_DELAY_CHARS => t.parse().ok(),
                _ => None,
            })?;
            let nanos = parts.get("nanos").and_then(Value::as_f64).unwrap_or(0.0);
            wait_from_secs(seconds + nanos / 1e9)
        }
        _ => None,
    }
}

/// Whether any of `codes` contains `needle`.
fn any_has(codes: &[String], needle: &str) -> bool {
    codes.iter().any(|c| c.contains(needle))
}

/// Classifies an error response that came before any stream (a 4xx/5xx with a body).
pub(crate) fn classify_status(
    status: u16,
    headers: &HeaderMap,
    raw_body: &str,
    key: Option<&str>,
) -> ProviderError {
    let body: Value = serde_json::from_str(raw_body).unwrap_or(Value::Null);
    let message = scrub(&error_message(&body, raw_body), key);
    let codes = error_codes(&body);
    match status {
        401 | 403 => ProviderError::Auth { message },
        // Gemini answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID.
        400 if any_has(&codes, "API_KEY_INVALID") => ProviderError::Auth { message },
        404 => ProviderError::ModelNotFound { message },
        402 => ProviderError::RateLimited {
            message,
            retry_after: None,
            retryable: false,
        },
        429 => ProviderError::RateLimited {
            retryable: !any_has(&codes, "insufficient_quota"),
            retry_after: retry_after(headers).or_else(|| retry_info(&body)),
            message,
        },
        300..=399 => ProviderError::Config(format!(
            "the provider redirected to another address ({status}); Hearth does not send your key there. Check the base URL"
        )),
        500..=599 => ProviderError::Server {
            status: Some(status),
            message,
        },
        _ => ProviderError::BadRequest { status, message },
    }
}

/// Classifies an error object that arrived inside a stream (always with HTTP 200): by its
/// type or code, never by the status.
pub(crate) fn classify_stream_error(error: &Value, key: Option<&str>) -> ProviderError {
    let wrapped = serde_json::json!({ "error": error });
    let message = scrub(&error_message(&wrapped, &error.to_string()), key);
    let codes = error_codes(&wrapped);
    let has = |needle: &str| any_has(&codes, needle);
    if has("rate_limit") || has("RESOURCE_EXHAUSTED") || has("429") || has("insufficient_quota") {
        ProviderError::RateLimited {
            retryable: !has("insufficient_quota"),
            retry_after: retry_info(&wrapped),
            message,
        }
    } else if has("overloaded")
        || has("api_error")
        || has("server_error")
        || has("UNAVAILABLE")
        || has("INTERNAL")
        || codes.iter().any(|c| c.starts_with('5') && c.len() == 3)
    {
        ProviderError::Server {
            status: None,
            message,
        }
    } else if has("authentication") || has("permission") || has("API_KEY_INVALID") {
        ProviderError::Auth { message }
    } else {
        ProviderError::StreamError {
            code: codes.iter().find_map(|c| provider_code(c, key)),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_the_way_each_provider_writes_them() {
        let h = HeaderMap::new();
        let openai_401 = r#"{"error":{"message":"Incorrect API key provided: sk-VKMIs1234567890abcd.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        let e = classify_status(401, &h, openai_401, Some("sk-VKMIs1234567890abcd"));
        assert!(
            matches!(&e, ProviderError::Auth { message } if !message.contains("VKMIs")),
            "{e:?}"
        );
        let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        assert!(matches!(
            classify_status(429, &h, quota, None),
            ProviderError::RateLimited {
                retryable: false,
                ..
            }
        ));
        let mut h2 = HeaderMap::new();
        h2.insert("retry-after", HeaderValue::from_static("12"));
        assert!(matches!(
            classify_status(429, &h2, r#"{"error":{"message":"slow","code":"rate_limit_exceeded"}}"#, None),
            ProviderError::RateLimited { retryable: true, retry_after: Some(d), .. } if d == Duration::from_secs(12)
        ));
        let gemini_bad_key = r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#;
        assert!(matches!(
            classify_status(400, &h, gemini_bad_key, None),
            ProviderError::Auth { .. }
        ));
        assert!(
            matches!(classify_status(404, &h, r#"{"error":"model 'x' not found"}"#, None), ProviderError::ModelNotFound { message } if message == "model 'x' not found")
        );
        assert!(matches!(
            classify_status(
                529,
                &h,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                None
            ),
            ProviderError::Server {
                status: Some(529),
                ..
            }
        ));
        assert!(
            matches!(classify_status(422, &h, r#"{"detail":"Unauthorized"}"#, None), ProviderError::BadRequest { status: 422, message } if message == "Unauthorized")
        );
        assert!(matches!(
            classify_status(502, &h, "<html>bad gateway</html>", None),
            ProviderError::Server { .. }
        ));
    }

    #[test]
    fn gemini_retry_info_gives_the_wait_and_odd_values_give_none() {
        let h = HeaderMap::new();
        let body = |delay: &str| {
            format!(
                r#"{{"error":{{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[]}},{{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":{delay}}}]}}}}"#
            )
        };
        let wait = |delay: &str| match classify_status(429, &h, &body(delay), None) {
            ProviderError::RateLimited { retry_after, .. } => retry_after,
            other => panic!("{other:?}"),
        };
        assert_eq!(wait(r#""34.4s""#), Some(Duration::from_millis(34_400)));
        assert_eq!(wait(r#""37s""#), Some(Duration::from_secs(37)));
        assert_eq!(
            wait(r#"{"seconds":"5","nanos":500000000}"#),
            Some(Duration::from_millis(5_500))
        );
        for odd in [
            r#""-3s""#,
            r#""1e400s""#,
            r#""NaNs""#,
            r#""34.4""#,
            r#""99999999999s""#,
            r#"12"#,
            r#"null"#,
        ] {
            assert_eq!(wait(odd), None, "{odd}");
        }
        assert_eq!(
            wait(&format!(r#""{}s""#, "9".repeat(500))),
            None,
            "long text is not parsed"
        );
        // A header still wins over the body.
        let mut h2 = HeaderMap::new();
        h2.insert("retry-after", HeaderValue::from_static("3"));
        assert!(matches!(
            classify_status(429, &h2, &body(r#""34.4s""#), None),
            ProviderError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));
        // A header too large for a Duration is no wait, not a panic.
        let mut h3 = HeaderMap::new();
        h3.insert("retry-after", HeaderValue::from_static("1e300"));
        assert!(matches!(
            classify_status(429, &h3, "{}", None),
            ProviderError::RateLimited {
                retry_after: None,
                ..
            }
        ));
        // The same details inside a stream error.
        let value: Value = serde_json::from_str(&body(r#""2s""#)).unwrap();
        assert!(matches!(
            classify_stream_error(&value["error"], None),
            ProviderError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(2)
        ));
    }

    #[test]
    fn a_provider_code_that_echoes_the_key_is_dropped() {
        let key = "CANARY-apikey-0123456789abcdef";
        let echo = serde_json::json!({"type": key, "code": key, "message": format!("bad {key}")});
        let e = classify_stream_error(&echo, Some(key));
        assert!(
            matches!(&e, ProviderError::StreamError { code: None, .. }),
            "{e:?}"
        );
        assert!(!e.to_string().contains(key), "{e}");
        let mixed = serde_json::json!({"type": key, "code": "weird_code", "message": "x"});
        assert!(matches!(
            classify_stream_error(&mixed, Some(key)),
            ProviderError::StreamError { code: Some(c), .. } if c == "weird_code"
        ));
        let long = serde_json::json!({"type": "a".repeat(65), "message": "x"});
        assert!(matches!(
            classify_stream_error(&long, None),
            ProviderError::StreamError { code: None, .. }
        ));
        let spaced = serde_json::json!({"type": "not an id <b>", "message": "x"});
        assert!(matches!(
            classify_stream_error(&spaced, None),
            ProviderError::StreamError { code: None, .. }
        ));
    }

    #[test]
    fn stream_errors_are_classified_by_type_not_status() {
        let overloaded = serde_json::json!({"type":"overloaded_error","message":"Overloaded"});
        assert!(matches!(
            classify_stream_error(&overloaded, None),
            ProviderError::Server { status: None, .. }
        ));
        let limit = serde_json::json!({"type":"rate_limit_error","message":"slow down"});
        assert!(matches!(
            classify_stream_error(&limit, None),
            ProviderError::RateLimited { .. }
        ));
        let other = serde_json::json!({"message":"content filter tripped","type":"content_filter"});
        assert!(
            matches!(classify_stream_error(&other, None), ProviderError::StreamError { code: Some(code), .. } if code == "content_filter")
        );
    }
}
