//! Files sent with a turn, and the JSON they are written into.
//!
//! A request body that carries files is built as a [`Json`] tree rather than a
//! `serde_json::Value`: the files' bytes stay where they are and are base64-encoded
//! only as the body is serialized, so a 20 MiB PDF costs the body's own bytes and no
//! second copy of its encoding.

use std::fmt;
use std::sync::Arc;

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// What a file is, as the protocols tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// PNG, JPEG, WebP or GIF: sent as the protocol's image part.
    Image,
    /// A PDF: sent as the protocol's document part.
    Pdf,
    /// UTF-8 text: sent as text, inside a block naming the file.
    Text,
}

/// A file attached to a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnFile {
    /// The file's name as the user knows it.
    pub name: String,
    /// Its media type, decided from its bytes.
    pub media_type: String,
    /// How it is sent.
    pub kind: FileKind,
    /// Its bytes (shared, so history can send them again without a copy).
    pub bytes: Arc<[u8]>,
}

impl TurnFile {
    /// The file as text for the model: its contents between lines that name it. The
    /// name and media type are kept to characters that cannot end the opening line early.
    pub(crate) fn text_block(&self) -> String {
        let attribute = |value: &str| -> String {
            value
                .chars()
                .map(|c| match c {
                    '"' | '<' | '>' | '\\' => '_',
                    c if c.is_control() => '_',
                    c => c,
                })
                .collect()
        };
        let text = String::from_utf8_lossy(&self.bytes);
        let newline = if text.ends_with('\n') { "" } else { "\n" };
        format!(
            "<file name=\"{}\" type=\"{}\">\n{text}{newline}</file>",
            attribute(&self.name),
            attribute(&self.media_type)
        )
    }
}

/// A JSON value whose base64 leaves are encoded while it is serialized.
pub(crate) enum Json<'a> {
    /// An ordinary value.
    Value(Value),
    /// An object, its members in this order.
    Object(Vec<(&'static str, Json<'a>)>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// A string: `prefix`, then `bytes` in standard base64.
    Base64 { prefix: String, bytes: &'a [u8] },
}

impl<'a> Json<'a> {
    /// An object from its members.
    pub(crate) fn object(members: Vec<(&'static str, Json<'a>)>) -> Self {
        Json::Object(members)
    }

    /// `bytes` as base64, after `prefix` (a data URL's `data:…;base64,`, or nothing).
    pub(crate) fn base64(prefix: impl Into<String>, bytes: &'a [u8]) -> Self {
        Json::Base64 {
            prefix: prefix.into(),
            bytes,
        }
    }
}

/// A `{"type": "text", "text": …}` part, as OpenAI-compatible servers and Anthropic both
/// take text among files.
pub(crate) fn typed_text(text: String) -> Json<'static> {
    Json::object(vec![("type", "text".into()), ("text", text.into())])
}

impl<T: Into<Value>> From<T> for Json<'_> {
    fn from(value: T) -> Self {
        Json::Value(value.into())
    }
}

struct Encoded<'a, 'b>(&'b str, &'a [u8]);

impl fmt::Display for Encoded<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)?;
        Base64Display::new(self.1, &STANDARD).fmt(f)
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Value(v) => v.serialize(serializer),
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Base64 { prefix, bytes } => serializer.collect_str(&Encoded(prefix, bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn base64_leaves_are_encoded_as_written_and_the_rest_is_plain_json() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let tree = Json::object(vec![
            ("a", 1.into()),
            (
                "parts",
                Json::Array(vec![
                    Json::base64("data:image/png;base64,", &bytes),
                    "x\"y".into(),
                ]),
            ),
        ]);
        let text = serde_json::to_string(&tree).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        let url = back["parts"][0].as_str().unwrap();
        let data = url.strip_prefix("data:image/png;base64,").unwrap();
        assert_eq!(STANDARD.decode(data).unwrap(), bytes);
        assert_eq!(back["parts"][1], "x\"y");
        assert_eq!(back["a"], 1);
    }

    #[test]
    fn a_text_block_names_the_file_and_its_name_cannot_close_the_line() {
        let file = TurnFile {
            name: "evil\">\n</file>.md".into(),
            media_type: "text/markdown\">".into(),
            kind: FileKind::Text,
            bytes: Arc::from(&b"# Notes\nline"[..]),
        };
        assert_eq!(
            file.text_block(),
            "<file name=\"evil____/file_.md\" type=\"text/markdown__\">\n# Notes\nline\n</file>"
        );
    }
}
