//! Full-text search over message text and conversation titles (FTS5, inside the
//! encrypted file), best match first, with highlighted snippets.

use rusqlite::{params, OptionalExtension};

use crate::error::Result;
use crate::message_tree::Role;
use crate::Vault;

/// Marks the start of a highlighted term in raw FTS5 snippets (never shown to users): a
/// private-use code point, which chat text practically never contains.
const HIGHLIGHT_START: char = '\u{e000}';
/// Marks the end of a highlighted term in raw FTS5 snippets.
const HIGHLIGHT_END: char = '\u{e001}';

/// Words with this many matches or more are shown newest first instead of ranked:
/// enough that every word but the very commonest is ranked over all its matches.
pub const RANK_WINDOW: i64 = 5_000;

/// A piece of text around a match, with the matched terms marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The text, without markers.
    pub text: String,
    /// Highlighted ranges as (start, end) character offsets into `text`.
    pub highlights: Vec<(usize, usize)>,
}

impl Snippet {
    fn from_marked(marked: &str) -> Snippet {
        let mut text = String::with_capacity(marked.len());
        let mut highlights = Vec::new();
        let mut start = None;
        let mut chars = 0usize;
        for ch in marked.chars() {
            match ch {
                HIGHLIGHT_START => start = Some(chars),
                HIGHLIGHT_END => {
                    if let Some(s) = start.take() {
                        highlights.push((s, chars));
                    }
                }
                _ => {
                    text.push(ch);
                    chars += 1;
                }
            }
        }
        Snippet { text, highlights }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The conversation.
    pub conversation_id: String,
    /// The matching message, or `None` when the title matched.
    pub message_id: Option<String>,
    /// The message's author (`None` for a title match).
    pub role: Option<Role>,
    /// Text around the match.
    pub snippet: Snippet,
    /// FTS5's bm25 score: lower is better.
    pub score: f64,
    /// Whether the conversation is archived: search covers archived conversations too,
    /// and a front end marks them so the user knows why the sidebar does not show them.
    pub archived: bool,
    /// The conversation's title, so a front end can name a hit whose conversation it has
    /// not loaded (an archived one, or one far down the list).
    pub title: String,
}

/// Turns what a user typed into an FTS5 query that cannot be a syntax error: every word
/// is quoted (so `AND`, `-`, `*`, `"` and `:` mean nothing special) and the last word
/// matches as a prefix, so results appear while typing.
pub(crate) fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    if words.is_empty() {
        return None;
    }
    let mut query = words.join(" ");
    query.push('*');
    Some(query)
}

impl Vault {
    /// Searches messages and titles for every word of `input`; best matches first.
    pub fn search(&self, input: &str, limit: u32) -> Result<Vec<SearchHit>> {
        self.search_within(input, limit, RANK_WINDOW)
    }

    fn search_within(&self, input: &str, limit: u32, rank_window: i64) -> Result<Vec<SearchHit>> {
        let Some(query) = fts_query(input) else {
            return Ok(Vec::new());
        };
        let mut hits = Vec::new();
        // Rank inside the index first and fetch rows and snippets for the winners only:
        // joining every match to its (encrypted) row before ranking costs a page
        // decryption per match.
        //
        // Ranking needs bm25 statistics over every match, which for a very common word
        // (`the` matches nearly every message) takes most of a second on a large vault.
        // So matches are first walked newest first, which FTS5 does cheaply in rowid
        // order (prefixes included, thanks to the prefix index): a word with RANK_WINDOW
        // matches or more is too common for relevance to mean much, and its newest matches
        // are shown instead; any other word is ranked over all its matches.
        let mut newest = self.conn.prepare_cached(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1
             ORDER BY rowid DESC LIMIT ?2",
        )?;
        let window: Vec<i64> = newest
            .query_map(params![query, rank_window], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let top: Vec<(i64, f64)> = if window.len() as i64 >= rank_window {
            window
                .iter()
                .take(limit as usize)
                .map(|&rowid| (rowid, 0.0))
                .collect()
        } else {
            let mut ranked = self.conn.prepare_cached(
                "SELECT rowid, bm25(messages_fts) AS score FROM messages_fts
                 WHERE messages_fts MATCH ?1 ORDER BY score LIMIT ?2",
            )?;
            let rows = ranked.query_map(params![query, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut detail = self.conn.prepare_cached(
            "SELECT m.conversation_id, m.id, m.role,
                    snippet(messages_fts, 0, char(57344), char(57345), '…', 16),
                    c.archived, c.title
             FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
                  JOIN conversations c ON c.id = m.conversation_id
             WHERE messages_fts MATCH ?1 AND messages_fts.rowid = ?2",
        )?;
        for (rowid, score) in top {
            let hit = detail
                .query_row(params![query, rowid], |r| {
                    let role: String = r.get(2)?;
                    Ok(SearchHit {
                        conversation_id: r.get(0)?,
                        message_id: Some(r.get(1)?),
                        role: role.parse().ok(),
                        snippet: Snippet::from_marked(&r.get::<_, String>(3)?),
                        score,
                        archived: r.get(4)?,
                        title: r.get(5)?,
                    })
                })
                .optional()?;
            hits.extend(hit);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, snippet(titles_fts, 0, char(57344), char(57345), '…', 16), bm25(titles_fts) AS score,
                    c.archived, c.title
             FROM titles_fts JOIN conversations c ON c.seq = titles_fts.rowid
             WHERE titles_fts MATCH ?1
             ORDER BY score LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![query, limit], |r| {
            Ok(SearchHit {
                conversation_id: r.get(0)?,
                message_id: None,
                role: None,
                snippet: Snippet::from_marked(&r.get::<_, String>(1)?),
                score: r.get(2)?,
                archived: r.get(3)?,
                title: r.get(4)?,
            })
        })?;
        for row in rows {
            hits.push(row?);
        }
        hits.sort_by(|a, b| a.score.total_cmp(&b.score));
        hits.truncate(limit as usize);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open::tests::temp_vault;
    use crate::{NewConversation, NewMessage};

    #[test]
    fn very_common_words_are_shown_newest_first() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let c = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        let mut ids = Vec::new();
        for i in 0..10 {
            // The oldest messages are the most relevant (the word repeated most).
            let text = format!("{} number {i}", "apple ".repeat(10 - i));
            ids.push(
                vault
                    .append_message(NewMessage::complete(&c.id, None, Role::User, text))
                    .unwrap()
                    .id,
            );
        }
        let ranked = vault.search_within("apple", 3, 100).unwrap();
        assert_eq!(
            ranked[0].message_id.as_deref(),
            Some(ids[0].as_str()),
            "ranked over all matches"
        );
        // As many matches as the window or more: the newest ones, newest first.
        let newest = vault.search_within("apple", 2, 3).unwrap();
        let found: Vec<_> = newest.iter().filter_map(|h| h.message_id.clone()).collect();
        assert_eq!(found, [ids[9].clone(), ids[8].clone()]);
    }

    #[test]
    fn archived_conversations_are_found_and_marked() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let mut conversation = |title: &str, text: &str| {
            let c = vault
                .create_conversation(NewConversation {
                    title: title.into(),
                    ..Default::default()
                })
                .unwrap();
            vault
                .append_message(NewMessage::complete(&c.id, None, Role::User, text))
                .unwrap();
            c.id
        };
        let kept = conversation("Kept kumquat", "a kumquat today");
        let archived = conversation("Old kumquat", "a kumquat last year");
        vault.set_archived(&archived, true).unwrap();
        let hits = vault.search("kumquat", 10).unwrap();
        // A title hit and a message hit for each conversation, each marked.
        assert_eq!(hits.len(), 4, "{hits:?}");
        for hit in &hits {
            assert_eq!(hit.archived, hit.conversation_id == archived, "{hit:?}");
            // Each hit names its conversation, title and message hits alike.
            let title = if hit.conversation_id == archived {
                "Old kumquat"
            } else {
                "Kept kumquat"
            };
            assert_eq!(hit.title, title, "{hit:?}");
        }
        assert!(hits.iter().any(|h| h.conversation_id == kept));
    }

    #[test]
    fn queries_are_quoted_and_prefix_matched() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("rust async").unwrap(), "\"rust\" \"async\"*");
        assert_eq!(fts_query("a\"b OR").unwrap(), "\"a\"\"b\" \"OR\"*");
    }

    #[test]
    fn finds_messages_and_titles_best_first_with_highlights() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let c = vault
            .create_conversation(NewConversation {
                title: "Sourdough notes".into(),
                ..Default::default()
            })
            .unwrap();
        let q = vault
            .append_message(NewMessage::complete(
                &c.id,
                None,
                Role::User,
                "How long should sourdough proof? sourdough sourdough",
            ))
            .unwrap();
        vault
            .append_message(NewMessage::complete(
                &c.id,
                Some(&q.id),
                Role::Assistant,
                "Usually overnight; a sourdough starter helps.",
            ))
            .unwrap();
        let hits = vault.search("sourd", 10).unwrap();
        assert_eq!(hits.len(), 3);
        assert_eq!(
            hits[0].message_id.as_deref(),
            Some(q.id.as_str()),
            "{hits:?}"
        );
        let first = &hits[0].snippet;
        let (s, e) = first.highlights[0];
        let word: String = first.text.chars().skip(s).take(e - s).collect();
        assert_eq!(word.to_lowercase(), "sourdough");
        assert!(hits.iter().any(|h| h.message_id.is_none()));
        // FTS syntax in user input is just text.
        assert!(vault.search("\"unbalanced AND (", 10).unwrap().is_empty());
        // Deleted and edited text is no longer found.
        vault
            .update_streaming(&q.id, "replaced text", None)
            .unwrap();
        assert_eq!(vault.search("proof", 10).unwrap().len(), 0);
        assert_eq!(vault.search("replaced", 10).unwrap().len(), 1);
        vault.rename_conversation(&c.id, "Bread").unwrap();
        assert_eq!(vault.search("bread", 10).unwrap().len(), 1);
    }
}
