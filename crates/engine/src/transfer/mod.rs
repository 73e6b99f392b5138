//! Conversations in and out of the vault: Hearth's own JSON export format and encrypted
//! archive, Markdown, and importers for other apps' data exports. Every importer yields
//! [`ConversationTree`](hearth_vault::ConversationTree)s one at a time, and
//! [`Vault::import`](hearth_vault::Vault::import) adds them in one transaction.

pub mod archive;
pub mod chatgpt;
pub mod claude;
pub mod detect;
pub mod hearth_json;
pub mod markdown;
