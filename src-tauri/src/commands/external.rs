//! Links leaving the app. Model output is untrusted, so the only way out is this one
//! command, and it opens only web and mail links, in the user's default application. The
//! UI asks the user to confirm before calling it; the webview itself never navigates away
//! (see `navigation.rs`).

use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::error::CommandError;

/// The longest link accepted: real links are far shorter, and a huge one is an attack on
/// whatever receives it.
const MAX_URL_LEN: usize = 8 * 1024;

/// Parses `raw` and accepts only `http`, `https` (with a host, without user info, which
/// could disguise the real host) and `mailto`.
pub fn checked_external_url(raw: &str) -> Result<Url, CommandError> {
    let refuse =
        |why: &str| CommandError::invalid(format!("Hearth does not open this link: {why}"));
    if raw.len() > MAX_URL_LEN {
        return Err(refuse("it is too long"));
    }
    let url = Url::parse(raw.trim()).map_err(|_| refuse("it is not a valid address"))?;
    match url.scheme() {
        "http" | "https" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(refuse("it has no host"));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(refuse(
                    "it carries a user name, which can disguise the site",
                ));
            }
            Ok(url)
        }
        "mailto" => Ok(url),
        _ => Err(refuse("only web (http, https) and mailto links open")),
    }
}

/// Opens a web or mail link in the user's default application, after the UI's
/// confirmation. Everything else is refused with `Invalid`.
#[tauri::command]
pub async fn open_external<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), CommandError> {
    let url = checked_external_url(&url)?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| CommandError::internal(format!("could not open the link: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_and_mail_links_pass() {
        for ok in [
            "https://example.com/a?b=c#d",
            "http://localhost:8080/",
            "mailto:someone@example.com",
        ] {
            assert!(checked_external_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<script>alert(1)</script>",
            "vscode://file/etc/passwd",
            "smb://host/share",
            "https://bank.example@evil.example/",
            "about:blank",
            "not a url",
            "",
        ] {
            assert!(checked_external_url(bad).is_err(), "{bad}");
        }
    }
}
