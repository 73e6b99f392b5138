//! The command line, as clap parses it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Hearth: private AI chat whose conversations stay encrypted on your machine.
#[derive(Debug, Parser)]
#[command(name = "hearth", version, about, max_term_width = 100)]
pub struct Cli {
    /// Data directory (default: the desktop app's, e.g. ~/.local/share/org.hearth.Hearth).
    #[arg(long, global = true, env = "HEARTH_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Read the vault passphrase from this file (first line) instead of HEARTH_PASSPHRASE or the terminal.
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Every `hearth` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Export conversations: lossless JSON, readable Markdown, or an encrypted archive.
    Export(ExportArgs),
    /// Import conversations: ChatGPT or Claude.ai data exports, Hearth JSON or archives.
    Import(ImportArgs),
    /// Create a vault: its key in the OS keychain, or protected by a passphrase, or both.
    Init {
        /// Also protect the data key with a passphrase.
        #[arg(long)]
        passphrase: bool,
        /// Do not use the OS keychain at all (needs --passphrase).
        #[arg(long)]
        no_keychain: bool,
    },
    /// Send a message and stream the reply to standard output.
    Chat {
        /// Continue this conversation (default: start a new one).
        #[arg(long, value_name = "ID")]
        conversation: Option<String>,
        /// Provider to use (default: the conversation's, else the default provider).
        #[arg(long, value_name = "ID")]
        provider: Option<String>,
        /// Model to use (default: the conversation's, else the provider's default model).
        #[arg(long, value_name = "M")]
        model: Option<String>,
        /// Stop the reply if the provider sends nothing for this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        idle_timeout: u64,
        /// A temporary chat: neither the message nor the reply is saved.
        #[arg(long, conflicts_with = "conversation")]
        temporary: bool,
        /// Send this file with the message (an image, a PDF or a text file); repeat for
        /// more, up to 10.
        #[arg(long, value_name = "FILE")]
        attach: Vec<std::path::PathBuf>,
        /// Offer these tool servers' tools to the model (saved with the conversation;
        /// `--tools ''` turns them off). Every call is asked on the terminal unless allowed.
        #[arg(
            long,
            value_name = "NAME[,NAME…]",
            value_delimiter = ',',
            conflicts_with = "temporary"
        )]
        tools: Option<Vec<String>>,
        /// Let SERVER's TOOL run without asking, for this reply (`SERVER/*`: all its tools).
        #[arg(long, value_name = "SERVER/TOOL")]
        allow: Vec<String>,
        /// Stop a tool call (or a server's start) that takes longer than this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        tool_timeout: u64,
        /// Start the conversation in this project (its instructions, files, model and
        /// settings apply).
        #[arg(long, value_name = "NAME", conflicts_with_all = ["conversation", "temporary"])]
        project: Option<String>,
        #[command(flatten)]
        settings: SettingsArgs,
        /// The message; `-` or nothing reads it from standard input.
        message: Option<String>,
    },
    /// List the models a provider offers.
    Models {
        /// Provider id.
        provider: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show what is stored where: mode, files and sizes, keychain entries, counts, versions.
    Status(JsonFlag),
    /// Show or set how long untouched conversations are kept (pinned ones always are).
    Retention {
        /// Keep conversations touched in the last DAYS days; `off` keeps everything.
        #[arg(value_name = "DAYS|off")]
        days: Option<String>,
    },
    /// Check every page of the database (SQLite and SQLCipher integrity checks).
    Check,
    /// List conversations, pinned first, then newest.
    List {
        /// Include archived conversations (also `--all`).
        #[arg(long, alias = "all", conflicts_with = "project")]
        archived: bool,
        /// Only this project's conversations.
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
        /// Only conversations in no project.
        #[arg(long, conflicts_with_all = ["project", "archived"])]
        unfiled: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Print a conversation's visible branch.
    Show {
        /// Conversation id.
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ShowFormat::Markdown)]
        format: ShowFormat,
    },
    /// Search messages and titles, best match first.
    Search {
        /// Words to find (the last one matches as a prefix).
        query: String,
        /// Most results to show.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Only in this project's conversations.
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
        /// Only messages by this author (`user`: yours; `assistant`: replies); leaves
        /// out title matches.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        /// Only messages from this day on (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only messages up to and including this day (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Only archived conversations.
        #[arg(long, conflicts_with = "active")]
        archived: bool,
        /// Only conversations that are not archived.
        #[arg(long)]
        active: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Rename a conversation.
    Rename {
        /// Conversation id.
        id: String,
        /// New title.
        title: String,
    },
    /// Pin a conversation to the top of the list (or unpin it with --off).
    Pin {
        /// Conversation id.
        id: String,
        /// Unpin instead.
        #[arg(long)]
        off: bool,
    },
    /// Archive a conversation: it leaves the default list but is kept and still found by search (restore it with --off).
    Archive {
        /// Conversation id.
        id: String,
        /// Restore instead.
        #[arg(long)]
        off: bool,
    },
    /// Delete a conversation for good.
    Delete {
        /// Conversation id.
        id: String,
    },
    /// Erase everything: every conversation, key and Hearth file.
    Erase {
        /// Confirm that everything should go.
        #[arg(long)]
        yes: bool,
    },
    /// Manage provider API keys (kept in the OS keychain, or inside the encrypted vault when it does not use the keychain).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Change the vault's passphrase.
    #[command(subcommand)]
    Passphrase(PassphraseCommand),
    /// Choose what unlocks the vault: the OS keychain, a passphrase, or both.
    Protect {
        /// Keep the data key in the OS keychain.
        #[arg(long, value_enum, value_name = "on|off")]
        keychain: Option<OnOff>,
        /// Unlock with a passphrase (`on` asks for a new one if the vault has none).
        #[arg(long, value_enum, value_name = "on|off")]
        passphrase: Option<OnOff>,
        #[command(flatten)]
        new: NewPassphrase,
    },
    /// Replace the data key: every page re-encrypted under a new random key, every copy
    /// of the key replaced. Safe to interrupt.
    Rekey,
    /// Save a file attached to a message (ids from `hearth show ID --format json`).
    #[command(subcommand)]
    Attachment(AttachmentCommand),
    /// Configure model providers.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Configure the tool (MCP) servers models may use, and the grants to run them.
    #[command(subcommand)]
    Tool(ToolCommand),
    /// Organise conversations in projects, each with instructions, files, a default
    /// model and settings.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Move a conversation into a project (`--project NAME`) or out of any (`--none`).
    Move {
        /// Conversation id.
        id: String,
        /// The project to move it into.
        #[arg(long, value_name = "NAME", required_unless_present = "none")]
        project: Option<String>,
        /// Take it out of its project.
        #[arg(long, conflicts_with = "project")]
        none: bool,
    },
    /// Keep prompts to reuse: in the desktop app, type `/` in the message box.
    #[command(subcommand)]
    Prompt(PromptCommand),
    /// Print the raw data key, to open the database with any SQLCipher 4 tool.
    VaultKey {
        /// Confirm that the key should be printed.
        #[arg(long)]
        reveal: bool,
    },
}

/// Model settings for `chat` and `project set`, each sent only when set.
#[derive(Debug, Args, Clone, Default)]
pub struct SettingsArgs {
    /// Sampling temperature, 0 to 2.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,
    /// The most tokens a reply may have.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// How hard a reasoning model thinks (OpenAI's reasoning effort, Anthropic's and
    /// Gemini's thinking budget).
    #[arg(long, value_enum)]
    pub reasoning: Option<ReasoningArg>,
}

/// `--reasoning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReasoningArg {
    /// A little.
    Low,
    /// The usual amount.
    Medium,
    /// As much as it takes.
    High,
}

/// `--role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Your own messages.
    User,
    /// The replies.
    Assistant,
}

/// `hearth project …`
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Add {
        /// Its name (unique, ignoring case).
        name: String,
        /// Its instructions, read from this file (`-`: standard input).
        #[arg(long, value_name = "FILE")]
        instructions_file: Option<std::path::PathBuf>,
    },
    /// List projects with their conversation and file counts.
    List(JsonFlag),
    /// Show a project: instructions, defaults, settings and files.
    Show {
        /// The project's name or id.
        name: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Rename a project.
    Rename {
        /// The project's name or id.
        name: String,
        /// The new name.
        new_name: String,
    },
    /// Delete a project. Its conversations move out of it, unless
    /// `--with-conversations` deletes them too.
    Remove {
        /// The project's name or id.
        name: String,
        /// Delete its conversations with it, for good.
        #[arg(long)]
        with_conversations: bool,
    },
    /// Change a project's instructions, default provider and model, or settings.
    Set {
        /// The project's name or id.
        name: String,
        /// New instructions from this file (`-`: standard input; an empty file clears them).
        #[arg(long, value_name = "FILE")]
        instructions_file: Option<std::path::PathBuf>,
        /// The provider its new conversations use.
        #[arg(long, value_name = "ID")]
        provider: Option<String>,
        /// The model its new conversations use.
        #[arg(long, value_name = "M")]
        model: Option<String>,
        /// Forget the default provider and model.
        #[arg(long, conflicts_with_all = ["provider", "model"])]
        no_model: bool,
        #[command(flatten)]
        settings: SettingsArgs,
        /// Forget the default settings (before applying any given here).
        #[arg(long)]
        clear_settings: bool,
    },
    /// Add files to a project; they go with every request of its conversations.
    Attach {
        /// The project's name or id.
        name: String,
        /// The files (images, PDFs, text), at most 10 per project.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Remove a file from a project (ids from `hearth project show`).
    Detach {
        /// The file's id.
        id: String,
    },
}

/// `hearth prompt …`
#[derive(Debug, Subcommand)]
pub enum PromptCommand {
    /// Save a prompt; its text is read from standard input unless `--text` gives it.
    Add {
        /// Its name (unique, ignoring case).
        name: String,
        /// The text.
        #[arg(long)]
        text: Option<String>,
    },
    /// List saved prompts.
    List(JsonFlag),
    /// Print a saved prompt's text.
    Show {
        /// The prompt's name or id.
        name: String,
    },
    /// Delete a saved prompt.
    Remove {
        /// The prompt's name or id.
        name: String,
    },
}

/// `--json` output.
#[derive(Debug, Args, Clone, Copy)]
pub struct JsonFlag {
    /// Print JSON (stable, documented in docs/CLI.md).
    #[arg(long)]
    pub json: bool,
}

/// How `show` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ShowFormat {
    /// Readable Markdown.
    Markdown,
    /// JSON.
    Json,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// Turn it on.
    On,
    /// Turn it off.
    Off,
}

/// Where a new passphrase comes from (else `HEARTH_NEW_PASSPHRASE`, else asked twice).
#[derive(Debug, clap::Args)]
pub struct NewPassphrase {
    /// Read the new passphrase from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub new_passphrase_file: Option<std::path::PathBuf>,
}

/// `hearth passphrase …`
#[derive(Debug, Subcommand)]
pub enum PassphraseCommand {
    /// Replace the passphrase: the old one stops working.
    Change {
        #[command(flatten)]
        new: NewPassphrase,
    },
}

/// `hearth attachment …`
#[derive(Debug, Subcommand)]
pub enum AttachmentCommand {
    /// Write an attachment's original bytes to a new file (never over an existing one).
    Save {
        /// Attachment id.
        id: String,
        /// The file to create.
        #[arg(long, short, value_name = "PATH")]
        output: std::path::PathBuf,
    },
}

/// `hearth key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Store a provider's API key, read from standard input.
    Set {
        /// Provider id.
        provider: String,
    },
    /// Show which providers have a key (only the last four characters).
    List(JsonFlag),
    /// Remove a provider's API key.
    Remove {
        /// Provider id.
        provider: String,
    },
}

/// `hearth tool …`
#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// Add an MCP server: `hearth tool add NAME -- COMMAND [ARGS]…` (stdio), or
    /// `hearth tool add NAME --url URL` (Streamable HTTP). Replaces one of the same name.
    Add {
        /// Its name: lowercase letters, digits, `-` and `_`.
        name: String,
        /// A Streamable HTTP server's URL (https, or http to this machine).
        #[arg(long, conflicts_with = "command")]
        url: Option<String>,
        /// An environment variable for a stdio server; `KEY` alone takes the value from
        /// Hearth's own environment, keeping it out of the process list. Repeatable.
        /// Values are kept like API keys, never in the settings.
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// A request header for an HTTP server (`NAME=VALUE`, or `NAME` from Hearth's
        /// environment). Repeatable; kept like API keys.
        #[arg(long = "header", value_name = "NAME=VALUE")]
        header: Vec<String>,
        /// The program and its arguments (after `--`).
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// List the servers; with `--tools`, start each and list the tools it offers.
    List {
        /// Also list each server's tools (starts the servers).
        #[arg(long)]
        tools: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Remove a server, its secrets and its grants (its past calls stay in history).
    Remove {
        /// The server's name.
        name: String,
    },
    /// Turn a server on or off for every conversation.
    Enable {
        /// The server's name.
        name: String,
        /// Turn it off instead.
        #[arg(long)]
        off: bool,
    },
    /// List the grants that let tools run without asking.
    Grants(JsonFlag),
    /// Take back a grant: an "always" one, or with `--conversation`, that conversation's.
    Revoke {
        /// `SERVER/TOOL`.
        #[arg(value_name = "SERVER/TOOL")]
        tool: String,
        /// The conversation the grant holds in.
        #[arg(long, value_name = "ID")]
        conversation: Option<String>,
    },
}

/// `hearth provider …`
#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// List providers.
    List(JsonFlag),
    /// Change a provider, or add a custom endpoint.
    Set {
        /// Provider id (built in, or a new custom id).
        id: String,
        /// Base URL including the API version segment (https, or http to this machine).
        #[arg(long)]
        base_url: Option<String>,
        /// Model new chats use.
        #[arg(long)]
        default_model: Option<String>,
        /// Wire protocol (needed for custom ids).
        #[arg(long, value_parser = ["openai-compatible", "anthropic", "gemini"])]
        kind: Option<String>,
        /// Make it the provider new chats use.
        #[arg(long)]
        default: bool,
    },
}

/// `hearth export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Where to write it (a file; a folder for Markdown of several conversations).
    #[arg(long, value_name = "PATH")]
    pub output: std::path::PathBuf,
    /// Only this conversation (default: all of them).
    #[arg(long, value_name = "ID")]
    pub conversation: Option<String>,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Lossless JSON (docs/export-format.md): every branch, model, usage and timestamp.
    Json,
    /// One readable Markdown file per conversation (the visible branch).
    Markdown,
    /// The JSON, encrypted with its own passphrase (a `.hearth` archive).
    Archive,
}

/// `hearth import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: conversations.json, conversations-NNN.json, a .zip, a Hearth .json or .hearth.
    #[arg(value_name = "PATH")]
    pub path: std::path::PathBuf,
    /// The file's format (default: recognised from its contents).
    #[arg(long, value_enum, default_value_t = ImportFormat::Auto)]
    pub format: ImportFormat,
    /// All or nothing: a conversation that cannot be converted fails the whole import
    /// (by default it is left out, named, and the others are imported).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// Import formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Recognise the format from the file.
    Auto,
    /// A ChatGPT data export.
    Chatgpt,
    /// A Claude.ai data export.
    Claude,
    /// A Hearth JSON export or encrypted archive.
    Hearth,
}
