//! Reasoning sent inline as `<think>…</think>` at the start of the answer, as DeepSeek-R1
//! style models do on servers that do not split it out (Groq's `raw` format, llama.cpp,
//! many hosted R1s). The tags can be split across deltas, so text that might be the start
//! of a tag is held back until the next delta decides.

use crate::chat::StreamEvent;

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing but whitespace seen yet: a `<think>` here opens reasoning.
    #[default]
    Start,
    /// Inside the reasoning block.
    Thinking,
    /// Past it (or there was none): everything is answer text. A `<think>` later in an
    /// answer is just text the model wrote.
    Answer,
}

/// Splits `<think>` reasoning out of streamed answer text.
#[derive(Debug, Default)]
pub(crate) struct ThinkSplitter {
    state: State,
    held: String,
    /// Just left the block: the blank line models put after it is not part of the answer.
    skip_blank: bool,
}

/// How many trailing bytes of `text` could be the start of `tag`.
fn partial_suffix(text: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&k| text.is_char_boundary(text.len().saturating_sub(k)) && text.ends_with(&tag[..k]))
        .unwrap_or(0)
}

impl ThinkSplitter {
    /// Feeds one delta of answer text.
    pub(crate) fn push(&mut self, delta: &str, out: &mut Vec<StreamEvent>) {
        let mut text = std::mem::take(&mut self.held);
        text.push_str(delta);
        loop {
            match self.state {
                State::Answer => {
                    if self.skip_blank {
                        text = text.trim_start().to_owned();
                        self.skip_blank = text.is_empty();
                    }
                    emit(out, StreamEvent::Text, text);
                    return;
                }
                State::Start => {
                    let trimmed = text.trim_start();
                    if let Some(rest) = trimmed.strip_prefix(OPEN) {
                        text = rest.to_owned();
                        self.state = State::Thinking;
                    } else if OPEN.starts_with(trimmed) {
                        // Empty, whitespace, or the beginning of the tag: wait for more.
                        self.held = text;
                        return;
                    } else {
                        self.state = State::Answer;
                    }
                }
                State::Thinking => {
                    if let Some(end) = text.find(CLOSE) {
                        emit(out, StreamEvent::Reasoning, text[..end].to_owned());
                        text = text[end + CLOSE.len()..].to_owned();
                        self.state = State::Answer;
                        self.skip_blank = true;
                    } else {
                        let keep = partial_suffix(&text, CLOSE);
                        self.held = text.split_off(text.len() - keep);
                        emit(out, StreamEvent::Reasoning, text);
                        return;
                    }
                }
            }
        }
    }

    /// At the end of the stream: whatever was held back is what it looked like.
    pub(crate) fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        let held = std::mem::take(&mut self.held);
        match self.state {
            State::Thinking => emit(out, StreamEvent::Reasoning, held),
            _ => emit(out, StreamEvent::Text, held),
        }
    }
}

fn emit(out: &mut Vec<StreamEvent>, kind: fn(String) -> StreamEvent, text: String) {
    if !text.is_empty() {
        out.push(kind(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(deltas: &[&str]) -> (String, String) {
        let mut s = ThinkSplitter::default();
        let mut out = Vec::new();
        for d in deltas {
            s.push(d, &mut out);
        }
        s.finish(&mut out);
        let (mut text, mut reasoning) = (String::new(), String::new());
        for e in out {
            match e {
                StreamEvent::Text(t) => text.push_str(&t),
                StreamEvent::Reasoning(r) => reasoning.push_str(&r),
                StreamEvent::Usage(_) | StreamEvent::ToolCall(_) => {}
            }
        }
        (text, reasoning)
    }

    #[test]
    fn think_blocks_are_reasoning_however_the_tags_are_split() {
        let whole = "<think>Count: 3 r's.</think>\n\nThere are **3**.";
        let expected = ("There are **3**.".to_owned(), "Count: 3 r's.".to_owned());
        assert_eq!(split(&[whole]), expected);
        for i in 1..whole.len() {
            if whole.is_char_boundary(i) {
                assert_eq!(split(&[&whole[..i], &whole[i..]]), expected, "split at {i}");
            }
        }
        let bytes: Vec<String> = whole.chars().map(String::from).collect();
        let pieces: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(split(&pieces), expected);
    }

    #[test]
    fn answers_without_a_leading_block_pass_through() {
        assert_eq!(
            split(&["Hello ", "<think> is an HTML-ish tag"]),
            ("Hello <think> is an HTML-ish tag".into(), String::new())
        );
        assert_eq!(split(&["<th", "ings>"]), ("<things>".into(), String::new()));
        assert_eq!(split(&["<"]), ("<".into(), String::new()));
        assert_eq!(
            split(&["naïve ", "café"]),
            ("naïve café".into(), String::new())
        );
    }

    #[test]
    fn an_unfinished_block_stays_reasoning() {
        assert_eq!(
            split(&["  <think>still thinking</thi"]),
            (String::new(), "still thinking</thi".into())
        );
    }
}
