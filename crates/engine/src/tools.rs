//! Tools over MCP: the servers the user configured (their secrets kept like API keys),
//! the servers running now, the tools a conversation offers a model, and the grants that
//! let a call run without asking.
//!
//! Nothing runs unless the user added the server and turned it on for the conversation;
//! a server starts on first use and stops when the vault locks (the engine is dropped).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hearth_tools::{Server, ServerConfig, Timeouts, ToolError, ToolInfo, Transport};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::Engine;

/// How an MCP server is reached, as the user gives it (with secret values).
#[derive(Clone, PartialEq, Eq)]
pub enum ToolTransport {
    /// A program run as a child process, spoken to over stdio.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Environment variables it gets (values are kept like API keys).
        env: Vec<(String, String)>,
    },
    /// A Streamable HTTP endpoint.
    Http {
        /// Its URL: `https://`, or `http://` to this machine only.
        url: String,
        /// Request headers it gets (values are kept like API keys).
        headers: Vec<(String, String)>,
    },
}

impl std::fmt::Debug for ToolTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolTransport::Stdio { command, args, env } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", args)
                .field("env", &env.iter().map(|(k, _)| k).collect::<Vec<_>>())
                .finish(),
            ToolTransport::Http { url, headers } => f
                .debug_struct("Http")
                .field("url", url)
                .field(
                    "headers",
                    &headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                )
                .finish(),
        }
    }
}

/// A configured server as the front ends show it: never a secret value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolServerInfo {
    /// Its name.
    pub name: String,
    /// `stdio` or `http`.
    pub transport: String,
    /// The program (stdio).
    pub command: Option<String>,
    /// Its arguments (stdio).
    pub args: Vec<String>,
    /// The URL (HTTP).
    pub url: Option<String>,
    /// The names of the environment variables it gets (stdio).
    pub env_names: Vec<String>,
    /// The names of the headers it gets (HTTP).
    pub header_names: Vec<String>,
    /// Whether conversations may offer it.
    pub enabled: bool,
}

/// A grant as the front ends list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolGrantInfo {
    /// The server.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The conversation it holds in, or `None` for "always".
    pub conversation_id: Option<String>,
    /// When it was given, Unix ms.
    pub created_at: i64,
}

/// What the vault keeps of a server: how to reach it, and the names (never the values)
/// of its secrets.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "transport", rename_all = "lowercase")]
enum StoredTransport {
    Stdio {
        command: String,
        args: Vec<String>,
        env: Vec<String>,
    },
    Http {
        url: String,
        headers: Vec<String>,
    },
}

/// The keychain (or in-vault secrets) account of one server's secret.
pub(crate) fn secret_account(vault_id: &str, server: &str, kind: &str, name: &str) -> String {
    format!("tool-secret:{vault_id}:{server}:{kind}:{name}")
}

/// Joins a server and tool name into the one name a model calls: `server__tool`, kept to
/// what every protocol accepts (`[A-Za-z0-9_-]`, at most 64, a letter or `_` first).
pub fn wire_name(server: &str, tool: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut name = format!("{}__{}", clean(server), clean(tool));
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    if name.len() > hearth_providers::MAX_TOOL_NAME_CHARS {
        // Long names keep their start and a short digest of the whole, so they stay
        // unique and stable.
        let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
        let tag: String = digest.as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        name.truncate(hearth_providers::MAX_TOOL_NAME_CHARS - 9);
        name.push('_');
        name.push_str(&tag);
    }
    name
}

/// The most bytes of a tool's description sent to a model: descriptions are the
/// server's text, and a model reads every one on every request.
const MAX_DESCRIPTION_BYTES: usize = 4 * 1024;

/// The tools a reply offers, and which server and tool each name calls.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToolSet {
    pub(crate) specs: Vec<hearth_providers::ToolSpec>,
    /// Wire name → (server, tool).
    pub(crate) by_wire: HashMap<String, (String, String)>,
}

impl ToolSet {
    fn add(&mut self, server: &str, tool: ToolInfo) {
        let mut name = wire_name(server, &tool.name);
        let mut n = 2;
        while self.by_wire.contains_key(&name) {
            let suffix = format!("_{n}");
            name.truncate(hearth_providers::MAX_TOOL_NAME_CHARS - suffix.len());
            name.push_str(&suffix);
            n += 1;
        }
        let mut description = tool.description;
        if description.len() > MAX_DESCRIPTION_BYTES {
            let mut cut = MAX_DESCRIPTION_BYTES;
            while !description.is_char_boundary(cut) {
                cut -= 1;
            }
            description.truncate(cut);
        }
        let mut parameters = tool.input_schema;
        if !parameters.is_object() {
            parameters = serde_json::json!({ "type": "object" });
        }
        self.by_wire
            .insert(name.clone(), (server.to_owned(), tool.name));
        self.specs.push(hearth_providers::ToolSpec {
            name,
            description,
            parameters,
        });
    }
}

/// The servers running now, by name. Each starts on first use; one that stopped (it
/// crashed or hung past its deadline) is started again on the next use.
pub(crate) struct ToolHost {
    running: tokio::sync::Mutex<HashMap<String, Arc<Server>>>,
    timeouts: std::sync::Mutex<Timeouts>,
}

impl std::fmt::Debug for ToolHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolHost").finish_non_exhaustive()
    }
}

impl ToolHost {
    pub(crate) fn new() -> ToolHost {
        ToolHost {
            running: tokio::sync::Mutex::new(HashMap::new()),
            timeouts: std::sync::Mutex::new(Timeouts::default()),
        }
    }

    fn timeouts(&self) -> Timeouts {
        self.timeouts.lock().map(|t| *t).unwrap_or_default()
    }

    /// The running server named by `config`, started now if it is not running.
    async fn server(&self, config: &ServerConfig) -> Result<Arc<Server>> {
        let mut running = self.running.lock().await;
        if let Some(server) = running.get(&config.name) {
            return Ok(server.clone());
        }
        let server = Arc::new(Server::start(config, self.timeouts()).await?);
        running.insert(config.name.clone(), server.clone());
        Ok(server)
    }

    /// Forgets a server that failed, so the next use starts it afresh.
    async fn forget(&self, name: &str) {
        let server = self.running.lock().await.remove(name);
        if let Some(server) = server {
            if let Ok(server) = Arc::try_unwrap(server) {
                server.stop().await;
            }
        }
    }

    /// Lists a server's tools, starting it if needed.
    pub(crate) async fn list(&self, config: &ServerConfig) -> Result<Vec<ToolInfo>> {
        let server = self.server(config).await?;
        match server.list_tools().await {
            Ok(tools) => Ok(tools),
            Err(e) => {
                drop(server);
                self.forget(&config.name).await;
                Err(e.into())
            }
        }
    }

    /// Calls a tool, starting its server if needed. A server that died or hung is
    /// forgotten, so the next call starts it again.
    pub(crate) async fn call(
        &self,
        config: &ServerConfig,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
    ) -> std::result::Result<hearth_tools::ToolOutput, ToolError> {
        let server = match self.server(config).await {
            Ok(s) => s,
            Err(EngineError::Tool(e)) => return Err(e),
            Err(e) => {
                return Err(ToolError::Transport {
                    server: config.name.clone(),
                    reason: e.to_string(),
                })
            }
        };
        let result = server.call_tool(tool, arguments).await;
        if let Err(
            ToolError::Exited { .. } | ToolError::TimedOut { .. } | ToolError::Stopped { .. },
        ) = &result
        {
            drop(server);
            self.forget(&config.name).await;
        }
        result
    }

    /// Stops every running server.
    pub(crate) async fn stop_all(&self) {
        let servers: Vec<_> = self.running.lock().await.drain().collect();
        for (_, server) in servers {
            if let Ok(server) = Arc::try_unwrap(server) {
                server.stop().await;
            }
            // A server a reply still holds stops when that reply lets go of it.
        }
    }
}

fn check_secret_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && !name.contains(['=', '\0', ':'])
        && !name.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(EngineError::Invalid(format!(
            "{name:?} is not a usable {kind} name"
        )))
    }
}

impl Engine {
    fn tool_secret(&self, server: &str, kind: &str, name: &str) -> Result<Option<String>> {
        let account = secret_account(self.vault()?.id(), server, kind, name);
        let bytes = self.read_secret(&account)?;
        Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn set_tool_secret(&self, server: &str, kind: &str, name: &str, value: &str) -> Result<()> {
        let account = secret_account(self.vault()?.id(), server, kind, name);
        self.put_secret(&account, value.as_bytes())
    }

    fn delete_tool_secret(&self, server: &str, kind: &str, name: &str) -> Result<()> {
        let account = secret_account(self.vault()?.id(), server, kind, name);
        self.drop_secret(&account)?;
        Ok(())
    }

    fn stored_transport(record: &hearth_vault::ToolServerRecord) -> Result<StoredTransport> {
        serde_json::from_str(&record.config_json).map_err(|e| {
            EngineError::Invalid(format!(
                "the settings of tool server {:?} are damaged ({e}); remove it and add it again",
                record.name
            ))
        })
    }

    fn server_info(record: &hearth_vault::ToolServerRecord) -> Result<ToolServerInfo> {
        Ok(match Engine::stored_transport(record)? {
            StoredTransport::Stdio { command, args, env } => ToolServerInfo {
                name: record.name.clone(),
                transport: "stdio".into(),
                command: Some(command),
                args,
                url: None,
                env_names: env,
                header_names: Vec::new(),
                enabled: record.enabled,
            },
            StoredTransport::Http { url, headers } => ToolServerInfo {
                name: record.name.clone(),
                transport: "http".into(),
                command: None,
                args: Vec::new(),
                url: Some(url),
                env_names: Vec::new(),
                header_names: headers,
                enabled: record.enabled,
            },
        })
    }

    /// Adds an MCP server (or replaces one of the same name). Its configuration is
    /// checked first; environment and header values are kept like API keys, in the
    /// keychain or the vault's secrets, never in the settings.
    pub fn add_tool_server(&self, name: &str, transport: ToolTransport) -> Result<ToolServerInfo> {
        let config = ServerConfig {
            name: name.to_owned(),
            transport: match &transport {
                ToolTransport::Stdio { command, args, env } => Transport::Stdio {
                    command: command.clone(),
                    args: args.clone(),
                    env: env.iter().cloned().collect(),
                },
                ToolTransport::Http { url, headers } => Transport::Http {
                    url: url.clone(),
                    headers: headers.iter().cloned().collect(),
                },
            },
        };
        config.validate()?;
        let (stored, secrets, kind) = match transport {
            ToolTransport::Stdio { command, args, env } => {
                for (k, _) in &env {
                    check_secret_name("environment variable", k)?;
                }
                let names = env.iter().map(|(k, _)| k.clone()).collect();
                (
                    StoredTransport::Stdio {
                        command,
                        args,
                        env: names,
                    },
                    env,
                    "env",
                )
            }
            ToolTransport::Http { url, headers } => {
                for (k, _) in &headers {
                    check_secret_name("header", k)?;
                }
                let names = headers.iter().map(|(k, _)| k.clone()).collect();
                (
                    StoredTransport::Http {
                        url,
                        headers: names,
                    },
                    headers,
                    "header",
                )
            }
        };
        // A replaced server's old secrets go first.
        if let Some(old) = self.vault()?.tool_server(name)? {
            self.delete_server_secrets(&old)?;
        }
        for (key, value) in &secrets {
            self.set_tool_secret(name, kind, key, value)?;
        }
        let json = serde_json::to_string(&stored)
            .map_err(|e| EngineError::Invalid(format!("cannot save the server: {e}")))?;
        let enabled = self
            .vault()?
            .tool_server(name)?
            .map(|r| r.enabled)
            .unwrap_or(true);
        self.vault()?.save_tool_server(name, &json, enabled)?;
        self.tool_server(name)
    }

    fn delete_server_secrets(&self, record: &hearth_vault::ToolServerRecord) -> Result<()> {
        match Engine::stored_transport(record) {
            Ok(StoredTransport::Stdio { env, .. }) => {
                for k in env {
                    self.delete_tool_secret(&record.name, "env", &k)?;
                }
            }
            Ok(StoredTransport::Http { headers, .. }) => {
                for k in headers {
                    self.delete_tool_secret(&record.name, "header", &k)?;
                }
            }
            // Damaged settings name no secrets we can find; erasing the vault still
            // removes every entry of this vault.
            Err(_) => {}
        }
        Ok(())
    }

    /// One configured server.
    pub fn tool_server(&self, name: &str) -> Result<ToolServerInfo> {
        let record = self
            .vault()?
            .tool_server(name)?
            .ok_or_else(|| EngineError::Invalid(format!("there is no tool server {name:?}")))?;
        Engine::server_info(&record)
    }

    /// Every configured server.
    pub fn tool_servers(&self) -> Result<Vec<ToolServerInfo>> {
        let records = self.vault()?.tool_servers()?;
        records.iter().map(Engine::server_info).collect()
    }

    /// Removes a server with its secrets and grants (stopping it if it runs). Its past
    /// calls stay in the conversations. Returns whether there was one.
    pub async fn remove_tool_server(&self, name: &str) -> Result<bool> {
        let Some(record) = self.vault()?.tool_server(name)? else {
            return Ok(false);
        };
        self.tools.forget(name).await;
        self.delete_server_secrets(&record)?;
        Ok(self.vault()?.delete_tool_server(name)?)
    }

    /// Turns a server on or off for every conversation.
    pub async fn set_tool_server_enabled(&self, name: &str, enabled: bool) -> Result<()> {
        let record = self
            .vault()?
            .tool_server(name)?
            .ok_or_else(|| EngineError::Invalid(format!("there is no tool server {name:?}")))?;
        if !enabled {
            self.tools.forget(name).await;
        }
        self.vault()?
            .save_tool_server(name, &record.config_json, enabled)?;
        Ok(())
    }

    /// The configuration to start a server with, its secrets filled in.
    pub(crate) fn server_config(&self, name: &str) -> Result<ServerConfig> {
        let record = self
            .vault()?
            .tool_server(name)?
            .ok_or_else(|| EngineError::Invalid(format!("there is no tool server {name:?}")))?;
        let secret = |kind: &str, key: &str| -> Result<String> {
            self.tool_secret(name, kind, key)?.ok_or_else(|| {
                EngineError::Invalid(format!(
                    "the {kind} value {key:?} of tool server {name:?} is missing from the keychain; add the server again"
                ))
            })
        };
        let transport = match Engine::stored_transport(&record)? {
            StoredTransport::Stdio { command, args, env } => {
                let mut values = BTreeMap::new();
                for k in env {
                    let v = secret("env", &k)?;
                    values.insert(k, v);
                }
                Transport::Stdio {
                    command,
                    args,
                    env: values,
                }
            }
            StoredTransport::Http { url, headers } => {
                let mut values = BTreeMap::new();
                for k in headers {
                    let v = secret("header", &k)?;
                    values.insert(k, v);
                }
                Transport::Http {
                    url,
                    headers: values,
                }
            }
        };
        Ok(ServerConfig {
            name: name.to_owned(),
            transport,
        })
    }

    /// The tools a server offers (starting it if it is not running).
    pub async fn server_tools(&self, name: &str) -> Result<Vec<ToolInfo>> {
        let config = self.server_config(name)?;
        self.tools.list(&config).await
    }

    /// Sets the deadlines for starting servers and for each call (the CLI's
    /// `--tool-timeout`; tests use short ones).
    pub fn set_tool_timeouts(&self, timeouts: Timeouts) {
        if let Ok(mut t) = self.tools.timeouts.lock() {
            *t = timeouts;
        }
    }

    /// Stops every running server (the vault is about to lock, or the app to quit).
    pub async fn stop_tool_servers(&self) {
        self.tools.stop_all().await;
    }

    /// The servers a conversation offers its model.
    pub fn conversation_tool_servers(&self, conversation_id: &str) -> Result<Vec<String>> {
        Ok(self.vault()?.conversation_tool_servers(conversation_id)?)
    }

    /// Sets the servers a conversation offers; each must be configured.
    pub fn set_conversation_tool_servers(
        &self,
        conversation_id: &str,
        servers: &[String],
    ) -> Result<()> {
        let mut vault = self.vault()?;
        for s in servers {
            if vault.tool_server(s)?.is_none() {
                return Err(EngineError::Invalid(format!(
                    "there is no tool server {s:?}; add it first"
                )));
            }
        }
        vault.set_conversation_tool_servers(conversation_id, servers)?;
        Ok(())
    }

    /// Every grant ("always" ones first).
    pub fn tool_grants(&self) -> Result<Vec<ToolGrantInfo>> {
        Ok(self
            .vault()?
            .tool_grants()?
            .into_iter()
            .map(|g| ToolGrantInfo {
                server: g.server,
                tool: g.tool,
                conversation_id: g.conversation_id,
                created_at: g.created_at,
            })
            .collect())
    }

    /// Takes back a grant; returns whether there was one.
    pub fn revoke_tool_grant(
        &self,
        server: &str,
        tool: &str,
        conversation_id: Option<&str>,
    ) -> Result<bool> {
        Ok(self
            .vault()?
            .revoke_tool_grant(server, tool, conversation_id)?)
    }

    /// The tools to offer in `conversation_id`: every tool of each enabled server it has
    /// on. A server that will not start is an error naming it.
    pub(crate) async fn offered_tools(&self, conversation_id: &str) -> Result<ToolSet> {
        let servers = self.conversation_tool_servers(conversation_id)?;
        let mut set = ToolSet::default();
        for name in servers {
            let enabled = self.vault()?.tool_server(&name)?.is_some_and(|r| r.enabled);
            if !enabled {
                continue;
            }
            let config = self.server_config(&name)?;
            for tool in self.tools.list(&config).await? {
                set.add(&name, tool);
            }
        }
        Ok(set)
    }

    pub(crate) fn tool_host(&self) -> Arc<ToolHost> {
        self.tools.clone()
    }

    /// Every tool call in a conversation (all branches), by reply, in order.
    pub fn tool_calls_in(&self, conversation_id: &str) -> Result<Vec<hearth_vault::ToolCall>> {
        Ok(self.vault()?.tool_calls_in(conversation_id)?)
    }
}

/// The most characters of a result shown in Markdown.
const MAX_MARKDOWN_RESULT_CHARS: usize = 4000;

/// A code fence around `text` that `text` cannot close: one backtick longer than its
/// longest run of backticks (at least three).
fn fenced(text: &str, language: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{language}\n{text}{newline}{fence}\n")
}

/// A reply's text with its tool calls where they happened, as readable Markdown: each
/// call names its server and tool and what became of it, with its arguments and result
/// in fences they cannot break out of.
pub fn reply_markdown(content: &str, calls: &[hearth_vault::ToolCall]) -> String {
    let mut out = String::new();
    let mut at = 0usize;
    for call in calls {
        let end = usize::try_from(call.text_offset)
            .unwrap_or(0)
            .clamp(at, content.len());
        if let Some(text) = content.get(at..end) {
            out.push_str(text);
            at = end;
        }
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
        }
        let name = |s: &str| s.replace(['`', '\r', '\n'], " ");
        out.push_str(&format!(
            "**Tool call** `{}/{}` ({})\n\n",
            name(&call.server),
            name(&call.tool),
            call.status
        ));
        out.push_str(&fenced(
            &crate::chat::pretty_arguments(&call.arguments),
            "json",
        ));
        if let Some(result) = &call.result {
            let mut shown: String = result.chars().take(MAX_MARKDOWN_RESULT_CHARS).collect();
            if shown.len() < result.len() {
                shown.push_str("\n[…]");
            }
            out.push_str("\nResult:\n\n");
            out.push_str(&fenced(&shown, "text"));
        }
        out.push('\n');
    }
    if let Some(rest) = content.get(at..) {
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_puts_calls_where_they_happened_in_fences_they_cannot_close() {
        let call = |offset: i64, result: &str| hearth_vault::ToolCall {
            id: "id".into(),
            message_id: "m".into(),
            position: 0,
            step: 0,
            text_offset: offset,
            reasoning_offset: 0,
            call_id: "c".into(),
            server: "files".into(),
            tool: "read`x".into(),
            arguments: "{\"path\":\"a\"}".into(),
            signature: None,
            status: hearth_vault::ToolCallStatus::Approved,
            result: Some(result.into()),
            created_at: 0,
            finished_at: None,
        };
        let md = reply_markdown(
            "Let me look.It says hi.",
            &[call(12, "```\n# not a heading\n```")],
        );
        assert!(
            md.starts_with("Let me look.\n\n**Tool call** `files/read x` (approved)"),
            "{md}"
        );
        assert!(
            md.contains("````text\n```\n# not a heading\n```\n````\n"),
            "{md}"
        );
        assert!(md.contains("```json\n{\n  \"path\": \"a\"\n}\n```"), "{md}");
        assert!(md.ends_with("It says hi."), "{md}");
    }

    #[test]
    fn wire_names_join_server_and_tool_within_every_protocols_rules() {
        assert_eq!(wire_name("files", "read_file"), "files__read_file");
        assert_eq!(wire_name("1st", "a.b c"), "_1st__a_b_c");
        let long = wire_name("server", &"x".repeat(100));
        assert!(hearth_providers::valid_tool_name(&long), "{long}");
        assert_eq!(long, wire_name("server", &"x".repeat(100)));
        assert_ne!(long, wire_name("server", &"x".repeat(101)));
        for name in [wire_name("a", "b"), wire_name("9", "ü/ß")] {
            assert!(hearth_providers::valid_tool_name(&name), "{name}");
        }
    }

    #[test]
    fn a_tool_set_keeps_names_unique_and_descriptions_bounded() {
        let mut set = ToolSet::default();
        let tool = |name: &str, description: String| ToolInfo {
            name: name.into(),
            description,
            input_schema: serde_json::json!({"type": "object"}),
        };
        set.add("s", tool("a.b", "short".into()));
        set.add("s", tool("a_b", "d".repeat(10_000)));
        assert_eq!(set.specs[0].name, "s__a_b");
        assert_eq!(set.specs[1].name, "s__a_b_2");
        assert_eq!(set.by_wire["s__a_b_2"], ("s".to_owned(), "a_b".to_owned()));
        assert_eq!(set.specs[1].description.len(), MAX_DESCRIPTION_BYTES);
    }
}
