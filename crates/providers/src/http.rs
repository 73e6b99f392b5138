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

use crate::error::{scrub, ProviderError};

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

/// The error's machine-readable type or code, wherever the provider puts it.
pub(crate) fn error_code(body: &Value) -> String {
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
    if let Some(details) = body.pointer("/error/details").and_then(Value::as_array) {
        for d in details {
            if let Some(reason) = d.get("reason").and_then(Value::as_str) {
                codes.push(reason.to_owned());
            }
        }
    }
    codes.join(" ")
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
        if ms.is_finite() && ms > 0.0 {
            return Some(Duration::from_millis(ms as u64));
        }
    }
    text("retry-after")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
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
    let code = error_code(&body);
    match status {
        401 | 403 => ProviderError::Auth { message },
        // Gemini answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID.
        400 if code.contains("API_KEY_INVALID") => ProviderError::Auth { message },
        404 => ProviderError::ModelNotFound { message },
        402 => ProviderError::RateLimited {
            message,
            retry_after: None,
            retryable: false,
        },
        429 => ProviderError::RateLimited {
            retryable: !code.contains("insufficient_quota"),
            retry_after: retry_after(headers),
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
    let code = error_code(&wrapped);
    let has = |needle: &str| code.contains(needle);
    if has("rate_limit") || has("RESOURCE_EXHAUSTED") || has("429") || has("insufficient_quota") {
        ProviderError::RateLimited {
            retryable: !has("insufficient_quota"),
            retry_after: None,
            message,
        }
    } else if has("overloaded")
        || has("api_error")
        || has("server_error")
        || has("UNAVAILABLE")
        || has("INTERNAL")
        || code.split(' ').any(|c| c.starts_with('5') && c.len() == 3)
    {
        ProviderError::Server {
            status: None,
            message,
        }
    } else if has("authentication") || has("permission") || has("API_KEY_INVALID") {
        ProviderError::Auth { message }
    } else {
        ProviderError::StreamError {
            kind: if code.is_empty() {
                "error".into()
            } else {
                code
            },
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
            matches!(classify_stream_error(&other, None), ProviderError::StreamError { kind, .. } if kind == "content_filter")
        );
    }
}
