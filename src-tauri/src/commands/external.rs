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

/// The header fields a `mailto:` link keeps. Everything else a mail client may honour
/// (`attach`, `cc`, `bcc`, `to`, `from`, `in-reply-to`...) could send a file or a copy
/// somewhere the user did not see in the dialog, so it is dropped.
const MAILTO_FIELDS: [&str; 2] = ["subject", "body"];

/// Parses `raw` and accepts only `http`, `https` (with a host, without user info, which
/// could disguise the real host) and `mailto` (rebuilt by [`checked_mailto`]).
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
        "mailto" => checked_mailto(&url).ok_or_else(|| refuse("its mail address is malformed")),
        _ => Err(refuse("only web (http, https) and mailto links open")),
    }
}

/// Rebuilds a parsed `mailto:` link from its recipients and at most one `subject` and one
/// `body`, dropping every other header field and the fragment. None when the recipients,
/// once percent-decoded, hold a control character or a `?` or `&`, which a mail client
/// could read as the start of more header fields.
fn checked_mailto(url: &Url) -> Option<Url> {
    let recipients = url.path();
    if percent_decoded(recipients)?
        .iter()
        .any(|&byte| byte.is_ascii_control() || byte == b'?' || byte == b'&')
    {
        return None;
    }
    let mut kept: Vec<(&str, &str)> = Vec::new();
    // Pairs are compared still percent-encoded: a field name spelled with escapes is not
    // one we keep, and values go back exactly as the URL parser normalised them.
    for pair in url.query().unwrap_or("").split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = name.to_ascii_lowercase();
        if let Some(field) = MAILTO_FIELDS.iter().find(|field| **field == name) {
            if !kept.iter().any(|(seen, _)| seen == field) {
                kept.push((field, value));
            }
        }
    }
    let mut rebuilt = format!("mailto:{recipients}");
    for (i, (field, value)) in kept.iter().enumerate() {
        rebuilt.push(if i == 0 { '?' } else { '&' });
        rebuilt.push_str(field);
        rebuilt.push('=');
        rebuilt.push_str(value);
    }
    Url::parse(&rebuilt).ok()
}

/// The bytes `text` stands for once its `%XX` escapes are decoded; None for a `%` that
/// does not start a valid escape (the decoder would keep it as it is, hiding what a mail
/// client might make of it).
fn percent_decoded(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    well_formed.then(|| percent_encoding::percent_decode_str(text).collect())
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

    #[test]
    fn mailto_keeps_only_subject_and_body() {
        let opened = |raw: &str| checked_external_url(raw).map(|url| url.to_string());
        assert_eq!(
            opened("mailto:a@b.c?attach=~/.ssh/id_rsa").ok().as_deref(),
            Some("mailto:a@b.c")
        );
        assert_eq!(
            opened("mailto:a@b.c?cc=spy@evil.example&Subject=Hi%20there&attach=/etc/passwd&bcc=x@evil.example&body=Line%0Aone&to=more@evil.example#frag")
                .ok()
                .as_deref(),
            Some("mailto:a@b.c?subject=Hi%20there&body=Line%0Aone")
        );
        // A second subject cannot sneak past the one the dialog showed.
        assert_eq!(
            opened("mailto:a@b.c?subject=one&subject=two")
                .ok()
                .as_deref(),
            Some("mailto:a@b.c?subject=one")
        );
        // Field names spelled with escapes are not the fields we keep.
        assert_eq!(
            opened("mailto:a@b.c?%61ttach=/etc/passwd&sub%6Aect=x")
                .ok()
                .as_deref(),
            Some("mailto:a@b.c")
        );
        assert_eq!(
            opened("mailto:someone@example.com").ok().as_deref(),
            Some("mailto:someone@example.com")
        );
    }

    #[test]
    fn mailto_recipients_cannot_smuggle_fields() {
        for bad in [
            "mailto:a@b.c%3Fattach=/etc/passwd",
            "mailto:a@b.c%26attach=/etc/passwd",
            "mailto:a@b.c%0D%0ABcc:%20x@evil.example",
            "mailto:a@b.c%zz",
        ] {
            assert!(checked_external_url(bad).is_err(), "{bad}");
        }
    }
}
