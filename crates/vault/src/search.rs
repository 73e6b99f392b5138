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

/// What narrows a search. Every field left `None` leaves that side open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    /// Only conversations in this project.
    pub project_id: Option<String>,
    /// Only archived conversations (`Some(true)`), or only the others (`Some(false)`).
    pub archived: Option<bool>,
    /// Only messages by this author; title matches are left out.
    pub role: Option<Role>,
    /// Only messages written at or after this time (Unix ms); for a title match, the
    /// conversation's last change.
    pub since: Option<i64>,
    /// Only messages written before this time (Unix ms); for a title match, the
    /// conversation's last change.
    pub until: Option<i64>,
}

impl SearchFilter {
    fn is_open(&self) -> bool {
        *self == SearchFilter::default()
    }
}

/// The conditions of a filtered search, on `m` (messages) and `c` (conversations), with
/// the filter's values bound from `?3` to `?7`.
const MESSAGE_FILTER: &str = "(?3 IS NULL OR c.project_id = ?3) AND (?4 IS NULL OR c.archived = ?4)
     AND (?5 IS NULL OR m.role = ?5) AND (?6 IS NULL OR m.created_at >= ?6)
     AND (?7 IS NULL OR m.created_at < ?7)";

/// The same for title matches: `?5` (the role) leaves them out altogether.
const TITLE_FILTER: &str = "(?3 IS NULL OR c.project_id = ?3) AND (?4 IS NULL OR c.archived = ?4)
     AND ?5 IS NULL AND (?6 IS NULL OR c.updated_at >= ?6) AND (?7 IS NULL OR c.updated_at < ?7)";

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
        self.search_within(input, &SearchFilter::default(), limit, RANK_WINDOW)
    }

    /// Searches as [`Vault::search`] does, among the messages and titles `filter` lets
    /// through. The filter is applied inside the queries, so ranking and the newest-first
    /// window count only what it lets through.
    pub fn search_filtered(
        &self,
        input: &str,
        filter: &SearchFilter,
        limit: u32,
    ) -> Result<Vec<SearchHit>> {
        self.search_within(input, filter, limit, RANK_WINDOW)
    }

    fn search_within(
        &self,
        input: &str,
        filter: &SearchFilter,
        limit: u32,
        rank_window: i64,
    ) -> Result<Vec<SearchHit>> {
        let Some(query) = fts_query(input) else {
            return Ok(Vec::new());
        };
        if !filter.is_open() {
            return self.search_narrowed(&query, filter, limit, rank_window);
        }
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
        let mut hits = self.message_hits(&query, top)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, snippet(titles_fts, 0, char(57344), char(57345), '…', 16), bm25(titles_fts) AS score,
                    c.archived, c.title
             FROM titles_fts JOIN conversations c ON c.seq = titles_fts.rowid
             WHERE titles_fts MATCH ?1
             ORDER BY score LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![query, limit], title_hit)?;
        for row in rows {
            hits.push(row?);
        }
        hits.sort_by(|a, b| a.score.total_cmp(&b.score));
        hits.truncate(limit as usize);
        Ok(hits)
    }
}

impl Vault {
    /// A filtered search. The matches are joined to their rows before ranking (the
    /// filter needs them), which costs a page read per match the index finds; the
    /// newest-first window still bounds the work for very common words.
    fn search_narrowed(
        &self,
        query: &str,
        filter: &SearchFilter,
        limit: u32,
        rank_window: i64,
    ) -> Result<Vec<SearchHit>> {
        let role = filter.role.map(Role::as_str);
        let mut newest = self.conn.prepare_cached(&format!(
            "SELECT messages_fts.rowid FROM messages_fts
                 JOIN messages m ON m.seq = messages_fts.rowid
                 JOIN conversations c ON c.id = m.conversation_id
             WHERE messages_fts MATCH ?1 AND {MESSAGE_FILTER}
             ORDER BY messages_fts.rowid DESC LIMIT ?2"
        ))?;
        let window: Vec<i64> = newest
            .query_map(&bound(&query, &rank_window, filter, &role)[..], |r| {
                r.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        let top: Vec<(i64, f64)> = if window.len() as i64 >= rank_window {
            window
                .iter()
                .take(limit as usize)
                .map(|&rowid| (rowid, 0.0))
                .collect()
        } else {
            let mut ranked = self.conn.prepare_cached(&format!(
                "SELECT messages_fts.rowid, bm25(messages_fts) AS score FROM messages_fts
                     JOIN messages m ON m.seq = messages_fts.rowid
                     JOIN conversations c ON c.id = m.conversation_id
                 WHERE messages_fts MATCH ?1 AND {MESSAGE_FILTER}
                 ORDER BY score LIMIT ?2"
            ))?;
            let rows = ranked.query_map(&bound(&query, &limit, filter, &role)[..], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut hits = self.message_hits(query, top)?;
        let mut titles = self.conn.prepare_cached(&format!(
            "SELECT c.id, snippet(titles_fts, 0, char(57344), char(57345), '…', 16), bm25(titles_fts) AS score,
                    c.archived, c.title
             FROM titles_fts JOIN conversations c ON c.seq = titles_fts.rowid
             WHERE titles_fts MATCH ?1 AND {TITLE_FILTER}
             ORDER BY score LIMIT ?2"
        ))?;
        let rows = titles.query_map(&bound(&query, &limit, filter, &role)[..], title_hit)?;
        for row in rows {
            hits.push(row?);
        }
        hits.sort_by(|a, b| a.score.total_cmp(&b.score));
        hits.truncate(limit as usize);
        Ok(hits)
    }

    /// The hits for the message rows `top` (with their scores), in that order.
    fn message_hits(&self, query: &str, top: Vec<(i64, f64)>) -> Result<Vec<SearchHit>> {
        let mut detail = self.conn.prepare_cached(
            "SELECT m.conversation_id, m.id, m.role,
                    snippet(messages_fts, 0, char(57344), char(57345), '…', 16),
                    c.archived, c.title
             FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
                  JOIN conversations c ON c.id = m.conversation_id
             WHERE messages_fts MATCH ?1 AND messages_fts.rowid = ?2",
        )?;
        let mut hits = Vec::with_capacity(top.len());
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
        Ok(hits)
    }
}

/// A filtered query's parameters: the two of its own, then the filter's from `?3`.
fn bound<'a>(
    first: &'a dyn rusqlite::ToSql,
    second: &'a dyn rusqlite::ToSql,
    filter: &'a SearchFilter,
    role: &'a Option<&'static str>,
) -> [&'a dyn rusqlite::ToSql; 7] {
    [
        first,
        second,
        &filter.project_id,
        &filter.archived,
        role,
        &filter.since,
        &filter.until,
    ]
}

/// A title match from a row of (id, snippet, score, archived, title).
fn title_hit(r: &rusqlite::Row<'_>) -> rusqlite::Result<SearchHit> {
    Ok(SearchHit {
        conversation_id: r.get(0)?,
        message_id: None,
        role: None,
        snippet: Snippet::from_marked(&r.get::<_, String>(1)?),
        score: r.get(2)?,
        archived: r.get(3)?,
        title: r.get(4)?,
    })
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
        let ranked = vault
            .search_within("apple", &SearchFilter::default(), 3, 100)
            .unwrap();
        assert_eq!(
            ranked[0].message_id.as_deref(),
            Some(ids[0].as_str()),
            "ranked over all matches"
        );
        // As many matches as the window or more: the newest ones, newest first.
        let newest = vault
            .search_within("apple", &SearchFilter::default(), 2, 3)
            .unwrap();
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
    fn filters_return_exactly_the_hits_that_match_them() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let work = vault.create_project("Work", "").unwrap();
        let home = vault.create_project("Home", "").unwrap();
        // 24 conversations: every mix of project (none, Work, Home), archived or not, and
        // four days; each with a question and a reply that both say "walnut".
        struct Made {
            conversation: String,
            message: String,
            project: Option<String>,
            archived: bool,
            role: Role,
            at: i64,
        }
        let mut made = Vec::new();
        let day = 86_400_000;
        let mut n = 0;
        for project in [None, Some(work.id.clone()), Some(home.id.clone())] {
            for archived in [false, true] {
                for d in 0..4i64 {
                    n += 1;
                    let c = vault
                        .create_conversation(NewConversation {
                            title: format!("chat {n}"),
                            project_id: project.clone(),
                            ..Default::default()
                        })
                        .unwrap();
                    let mut parent: Option<String> = None;
                    for (i, role) in [Role::User, Role::Assistant].into_iter().enumerate() {
                        let mut m = NewMessage::complete(
                            &c.id,
                            parent.as_deref(),
                            role,
                            format!("walnut {n} {i}"),
                        );
                        let at = d * day + i as i64;
                        m.created_at = Some(at);
                        let m = vault.append_message(m).unwrap();
                        made.push(Made {
                            conversation: c.id.clone(),
                            message: m.id.clone(),
                            project: project.clone(),
                            archived,
                            role,
                            at,
                        });
                        parent = Some(m.id);
                    }
                    vault.set_archived(&c.id, archived).unwrap();
                }
            }
        }
        let filters = [
            SearchFilter {
                project_id: Some(work.id.clone()),
                ..Default::default()
            },
            SearchFilter {
                archived: Some(true),
                ..Default::default()
            },
            SearchFilter {
                archived: Some(false),
                role: Some(Role::User),
                ..Default::default()
            },
            SearchFilter {
                role: Some(Role::Assistant),
                since: Some(day),
                until: Some(3 * day),
                ..Default::default()
            },
            SearchFilter {
                project_id: Some(home.id.clone()),
                archived: Some(true),
                since: Some(2 * day),
                ..Default::default()
            },
        ];
        for window in [RANK_WINDOW, 5] {
            for filter in &filters {
                let mut expected: Vec<&str> = made
                    .iter()
                    .filter(|m| {
                        filter
                            .project_id
                            .as_ref()
                            .is_none_or(|p| m.project.as_ref() == Some(p))
                            && filter.archived.is_none_or(|a| a == m.archived)
                            && filter.role.is_none_or(|r| r == m.role)
                            && filter.since.is_none_or(|t| m.at >= t)
                            && filter.until.is_none_or(|t| m.at < t)
                    })
                    .map(|m| m.message.as_str())
                    .collect();
                // With as many matches as the window or more, the newest of those the
                // filter lets through, and only they.
                if expected.len() as i64 >= window {
                    expected.drain(..expected.len() - window as usize);
                }
                let hits = vault.search_within("walnut", filter, 1000, window).unwrap();
                assert!(
                    hits.iter().all(|h| h.message_id.is_some()),
                    "titles do not say walnut"
                );
                let mut found: Vec<&str> = hits
                    .iter()
                    .filter_map(|h| h.message_id.as_deref())
                    .collect();
                expected.sort_unstable();
                found.sort_unstable();
                assert_eq!(found, expected, "{filter:?}, window {window}");
                for hit in &hits {
                    let m = made
                        .iter()
                        .find(|m| Some(m.message.as_str()) == hit.message_id.as_deref())
                        .unwrap();
                    assert_eq!(hit.conversation_id, m.conversation);
                    assert_eq!(hit.archived, m.archived);
                }
            }
        }
        // Title matches obey the same filter (their time is the conversation's last
        // change) and a role filter leaves them out.
        let titled = |filter: &SearchFilter| {
            vault
                .search_filtered("chat", filter, 100)
                .unwrap()
                .into_iter()
                .filter(|h| h.message_id.is_none())
                .count()
        };
        assert_eq!(titled(&SearchFilter::default()), 24);
        let in_work = SearchFilter {
            project_id: Some(work.id.clone()),
            ..Default::default()
        };
        assert_eq!(titled(&in_work), 8);
        let by_role = SearchFilter {
            role: Some(Role::User),
            ..in_work
        };
        assert_eq!(titled(&by_role), 0);
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
