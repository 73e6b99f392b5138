//! Tools over MCP: the servers in Settings → Tools, the tools each offers, the servers a
//! conversation uses, the standing grants, and the user's answer to a call waiting in a
//! reply. Environment and header values go from the form to the engine, which keeps them
//! like API keys; nothing here ever sends one back.

use serde::{Deserialize, Deserializer};
use tauri::State;
use ts_rs::TS;
use zeroize::Zeroizing;

use hearth_engine::{ToolDecision, ToolTransport};

use crate::dto::{ToolGrantDto, ToolInfoDto, ToolServerDto};
use crate::error::CommandError;
use crate::state::{Hearth, Streams};

/// A secret value (an environment variable's or a header's), wiped from memory when
/// dropped and never printed.
#[derive(TS)]
#[ts(type = "string")]
pub struct SecretValue(Zeroizing<String>);

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| SecretValue(Zeroizing::new(s)))
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

/// An environment variable or a header of a server being added.
#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SecretPairInput {
    /// Its name (kept, and shown in the list).
    pub name: String,
    /// Its value (kept like an API key, never shown again).
    pub value: SecretValue,
}

/// How a server being added is reached.
#[derive(Debug, Deserialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ToolTransportInput {
    /// A program Hearth runs, spoken to over stdin and stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments, one per item.
        args: Vec<String>,
        /// The environment variables it gets (and nothing else of Hearth's).
        env: Vec<SecretPairInput>,
    },
    /// A Streamable HTTP endpoint.
    Http {
        /// `https://`, or `http://` to this computer.
        url: String,
        /// Headers sent with every request (an authorization token, say).
        headers: Vec<SecretPairInput>,
    },
}

/// A server to add (or to replace, by name).
#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolServerInput {
    /// 1 to 64 lowercase letters, digits, `-` or `_`.
    pub name: String,
    /// How it is reached.
    pub transport: ToolTransportInput,
}

fn pairs(items: Vec<SecretPairInput>) -> Vec<(String, String)> {
    items
        .into_iter()
        .map(|p| (p.name.trim().to_owned(), p.value.0.as_str().to_owned()))
        .collect()
}

impl From<ToolTransportInput> for ToolTransport {
    fn from(input: ToolTransportInput) -> Self {
        match input {
            ToolTransportInput::Stdio { command, args, env } => ToolTransport::Stdio {
                command: command.trim().to_owned(),
                args,
                env: pairs(env),
            },
            ToolTransportInput::Http { url, headers } => ToolTransport::Http {
                url: url.trim().to_owned(),
                headers: pairs(headers),
            },
        }
    }
}

/// The user's answer to a tool call waiting for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ToolDecisionDto {
    /// Do not run it; the model is told so.
    Deny,
    /// Run this call only.
    Once,
    /// Run it, and this tool's later calls in this conversation without asking.
    Conversation,
    /// Run it, and this tool's calls everywhere without asking, until revoked.
    Always,
}

impl From<ToolDecisionDto> for ToolDecision {
    fn from(d: ToolDecisionDto) -> Self {
        match d {
            ToolDecisionDto::Deny => ToolDecision::Deny,
            ToolDecisionDto::Once => ToolDecision::Once,
            ToolDecisionDto::Conversation => ToolDecision::Conversation,
            ToolDecisionDto::Always => ToolDecision::Always,
        }
    }
}

/// Every configured server.
#[tauri::command]
pub async fn list_tool_servers(
    hearth: State<'_, Hearth>,
) -> Result<Vec<ToolServerDto>, CommandError> {
    let servers = hearth.engine()?.tool_servers()?;
    Ok(servers.into_iter().map(Into::into).collect())
}

/// Adds a server (or replaces the one of that name). Returns it without its secrets.
#[tauri::command]
pub async fn add_tool_server(
    hearth: State<'_, Hearth>,
    server: ToolServerInput,
) -> Result<ToolServerDto, CommandError> {
    let engine = hearth.engine()?;
    let name = server.name.trim().to_owned();
    Ok(engine
        .add_tool_server(&name, server.transport.into())?
        .into())
}

/// Removes a server with its secrets and grants; returns whether there was one.
#[tauri::command]
pub async fn remove_tool_server(
    hearth: State<'_, Hearth>,
    name: String,
) -> Result<bool, CommandError> {
    Ok(hearth.engine()?.remove_tool_server(&name).await?)
}

/// Turns a server on or off for every conversation; returns it as it now is.
#[tauri::command]
pub async fn set_tool_server_enabled(
    hearth: State<'_, Hearth>,
    name: String,
    enabled: bool,
) -> Result<ToolServerDto, CommandError> {
    let engine = hearth.engine()?;
    engine.set_tool_server_enabled(&name, enabled).await?;
    Ok(engine.tool_server(&name)?.into())
}

/// The tools a server offers (this starts it, if it is not running).
#[tauri::command]
pub async fn list_server_tools(
    hearth: State<'_, Hearth>,
    name: String,
) -> Result<Vec<ToolInfoDto>, CommandError> {
    let tools = hearth.engine()?.server_tools(&name).await?;
    Ok(tools.into_iter().map(Into::into).collect())
}

/// Sets the servers a conversation offers its model; returns them as saved.
#[tauri::command]
pub async fn set_conversation_tool_servers(
    hearth: State<'_, Hearth>,
    id: String,
    servers: Vec<String>,
) -> Result<Vec<String>, CommandError> {
    let engine = hearth.engine()?;
    engine.set_conversation_tool_servers(&id, &servers)?;
    Ok(engine.conversation_tool_servers(&id)?)
}

/// Every standing grant, "always" ones first, each with its conversation's title.
#[tauri::command]
pub async fn list_tool_grants(
    hearth: State<'_, Hearth>,
) -> Result<Vec<ToolGrantDto>, CommandError> {
    let engine = hearth.engine()?;
    let grants = engine.tool_grants()?;
    Ok(grants
        .into_iter()
        .map(|g| {
            // A conversation grant goes with its conversation (the foreign key cascades);
            // should its conversation not be readable, the grant shows without a title.
            let title = g
                .conversation_id
                .as_deref()
                .and_then(|id| engine.conversation(id).ok())
                .map(|c| c.title);
            ToolGrantDto::new(g, title)
        })
        .collect())
}

/// Takes back a grant (`conversation_id` absent: the "always" one); returns whether there
/// was one.
#[tauri::command]
pub async fn revoke_tool_grant(
    hearth: State<'_, Hearth>,
    server: String,
    tool: String,
    conversation_id: Option<String>,
) -> Result<bool, CommandError> {
    Ok(hearth
        .engine()?
        .revoke_tool_grant(&server, &tool, conversation_id.as_deref())?)
}

/// Answers the tool call `call_id` that the reply `id` (its request id or assistant
/// message id) waits on. Returns once the reply has taken the answer ("conversation" and
/// "always" are saved as grants by then); the call's progress arrives on the reply's
/// channel.
#[tauri::command]
pub async fn decide_tool_call(
    streams: State<'_, Streams>,
    id: String,
    call_id: String,
    decision: ToolDecisionDto,
) -> Result<(), CommandError> {
    let taken = streams.decide(&id, &call_id, decision.into())?;
    taken
        .await
        .unwrap_or_else(|_| Err(CommandError::cancelled()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stdio_server_arrives_with_its_values_and_never_prints_them() {
        let input: ToolServerInput = serde_json::from_value(serde_json::json!({
            "name": "files",
            "transport": {"kind": "stdio", "command": " python3 ", "args": ["server.py", "stdio"],
                "env": [{"name": "TOKEN", "value": "s3cret-value"}]}
        }))
        .expect("parses");
        assert!(!format!("{input:?}").contains("s3cret-value"));
        match ToolTransport::from(input.transport) {
            ToolTransport::Stdio { command, args, env } => {
                assert_eq!(command, "python3");
                assert_eq!(args, ["server.py", "stdio"]);
                assert_eq!(env, [("TOKEN".to_owned(), "s3cret-value".to_owned())]);
            }
            other => panic!("not stdio: {other:?}"),
        }
    }

    #[test]
    fn an_http_server_and_every_decision_parse() {
        let input: ToolTransportInput = serde_json::from_value(serde_json::json!({
            "kind": "http", "url": "https://tools.example/mcp",
            "headers": [{"name": "Authorization", "value": "Bearer x"}]
        }))
        .expect("parses");
        assert!(matches!(
            ToolTransport::from(input),
            ToolTransport::Http { url, headers } if url == "https://tools.example/mcp" && headers.len() == 1
        ));
        for (text, decision) in [
            ("deny", ToolDecision::Deny),
            ("once", ToolDecision::Once),
            ("conversation", ToolDecision::Conversation),
            ("always", ToolDecision::Always),
        ] {
            let dto: ToolDecisionDto = serde_json::from_value(serde_json::json!(text)).expect(text);
            assert_eq!(ToolDecision::from(dto), decision);
        }
    }
}
