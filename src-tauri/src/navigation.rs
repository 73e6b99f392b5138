//! Keeps the webview on the app: a navigation anywhere else (a link in model output, a
//! script setting `location`) is refused, and `window.open` never makes a window.

use url::Url;

/// Whether `url` is the app's own front end: the embedded assets (`tauri://localhost` on
/// Linux and macOS, `http(s)://tauri.localhost` on Windows), or the Vite dev server in a
/// development build.
pub fn is_app_url(url: &Url, dev_url: Option<&Url>) -> bool {
    let embedded = match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    };
    embedded || dev_url.is_some_and(|dev| dev.origin() == url.origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    #[test]
    fn only_the_app_origin_is_allowed() {
        let dev = url("http://localhost:5173");
        for ok in [
            "tauri://localhost/",
            "tauri://localhost/index.html#/chat",
            "http://tauri.localhost/",
            "https://tauri.localhost/settings",
        ] {
            assert!(is_app_url(&url(ok), None), "{ok}");
        }
        assert!(is_app_url(&url("http://localhost:5173/x"), Some(&dev)));
        for bad in [
            "https://example.com/",
            "http://localhost:5173/",
            "tauri://evil.example/",
            "https://tauri.localhost.evil.example/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,hi",
            "about:blank",
        ] {
            assert!(!is_app_url(&url(bad), None), "{bad}");
        }
        assert!(!is_app_url(&url("http://localhost:5174/"), Some(&dev)));
    }
}
