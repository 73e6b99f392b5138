//! The HTTP client for Streamable HTTP servers: rustls on ring with the OS's roots, and
//! redirects followed only within the server's own origin.

use std::collections::HashMap;
use std::sync::Arc;

use reqwest_mcp::header::{HeaderName, HeaderValue};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;

use crate::output::MAX_MESSAGE_BYTES;
use crate::{Result, ToolError};

/// The most redirects followed (all within one origin).
const MAX_REDIRECTS: usize = 5;

pub(crate) fn transport(
    server: &str,
    url: &url::Url,
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<StreamableHttpClientTransport<reqwest_mcp::Client>> {
    let failed = |reason: String| ToolError::Transport {
        server: server.to_owned(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    if added == 0 && url.scheme() == "https" {
        return Err(failed(
            "no trusted root certificates were found on this system".into(),
        ));
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| failed(format!("TLS setup failed: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();

    let origin = url.origin();
    let policy = reqwest_mcp::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS || attempt.url().origin() != origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    let client = reqwest_mcp::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(policy)
        .no_proxy()
        .build()
        .map_err(|e| failed(format!("could not build the HTTP client: {e}")))?;

    let mut custom = HashMap::new();
    for (key, value) in headers {
        let name = HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| failed(format!("the header {key:?} is not valid")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| failed(format!("the header {key:?} has a value that is not valid")))?;
        custom.insert(name, value);
    }
    let config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
        .custom_headers(custom)
        .max_json_response_size(MAX_MESSAGE_BYTES)
        .max_sse_event_size(MAX_MESSAGE_BYTES);
    Ok(StreamableHttpClientTransport::with_client(client, config))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The transport starts its worker task at once, so these need a runtime.
    #[tokio::test]
    async fn an_https_client_builds_without_a_global_crypto_provider() {
        let url = url::Url::parse("https://example.com/mcp").expect("a URL");
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("authorization".to_owned(), "Bearer t".to_owned());
        assert!(transport("web", &url, &headers).is_ok());
    }

    #[tokio::test]
    async fn a_bad_header_is_refused() {
        let url = url::Url::parse("https://example.com/mcp").expect("a URL");
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("bad header".to_owned(), "v".to_owned());
        assert!(transport("web", &url, &headers).is_err());
    }
}
