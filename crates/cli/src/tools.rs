//! `hearth tool …`: the MCP servers models may use, and the grants to run their tools;
//! and how `chat` asks about a call on the terminal.

use std::io::{BufRead, BufReader, Write};

use anyhow::{bail, Result};
use hearth_engine::{ToolCallView, ToolDecision, ToolTransport};
use serde_json::json;

use crate::args::ToolCommand;
use crate::chat::runtime;
use crate::output::{errln, outln, print_json, terminal_safe};
use crate::unlock::Context;

/// `KEY=VALUE`, or `KEY` with the value from Hearth's own environment.
fn pair(text: &str, what: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        Some(_) => bail!("{text:?} is not {what}=VALUE"),
        None => match std::env::var(text) {
            Ok(v) => Ok((text.to_owned(), v)),
            Err(_) => {
                bail!("{text} has no value: write {text}=VALUE, or set {text} in the environment")
            }
        },
    }
}

/// Runs `hearth tool …`.
pub fn tool(ctx: &Context, cmd: ToolCommand) -> Result<()> {
    match cmd {
        ToolCommand::Add {
            name,
            url,
            env,
            header,
            command,
        } => {
            let transport = match (url, command.split_first()) {
                (Some(url), None) => {
                    if !env.is_empty() {
                        bail!("--env is for stdio servers; an HTTP server takes --header");
                    }
                    ToolTransport::Http {
                        url,
                        headers: header
                            .iter()
                            .map(|h| pair(h, "NAME"))
                            .collect::<Result<_>>()?,
                    }
                }
                (None, Some((program, args))) => {
                    if !header.is_empty() {
                        bail!("--header is for HTTP servers; a stdio server takes --env");
                    }
                    ToolTransport::Stdio {
                        command: program.clone(),
                        args: args.to_vec(),
                        env: env.iter().map(|e| pair(e, "KEY")).collect::<Result<_>>()?,
                    }
                }
                (Some(_), Some(_)) => bail!("give either --url or a command after --, not both"),
                (None, None) => bail!(
                    "say how to reach the server: `hearth tool add {name} -- COMMAND [ARGS]…` or `hearth tool add {name} --url URL`"
                ),
            };
            let engine = ctx.open()?;
            let info = engine.add_tool_server(&name, transport)?;
            errln!(
                "Added tool server {}. Offer it in a chat with --tools {}.",
                info.name,
                info.name
            );
            engine.lock()?;
            Ok(())
        }
        ToolCommand::List { tools, json } => list(ctx, tools, json.json),
        ToolCommand::Remove { name } => {
            let engine = ctx.open()?;
            let removed = runtime()?.block_on(engine.remove_tool_server(&name))?;
            engine.lock()?;
            if !removed {
                bail!("there is no tool server {name:?}");
            }
            errln!("Removed tool server {name}, its secrets and its grants.");
            Ok(())
        }
        ToolCommand::Enable { name, off } => {
            let engine = ctx.open()?;
            runtime()?.block_on(engine.set_tool_server_enabled(&name, !off))?;
            engine.lock()?;
            errln!("Tool server {name} is {}.", if off { "off" } else { "on" });
            Ok(())
        }
        ToolCommand::Grants(flag) => {
            let engine = ctx.open()?;
            let grants = engine.tool_grants()?;
            if flag.json {
                return print_json(&grants);
            }
            if grants.is_empty() {
                errln!("No grants: every tool call is asked.");
            }
            for g in grants {
                let scope = match &g.conversation_id {
                    Some(c) => format!("in conversation {c}"),
                    None => "always".into(),
                };
                outln!("{}/{}  {scope}", g.server, g.tool)?;
            }
            Ok(())
        }
        ToolCommand::Revoke { tool, conversation } => {
            let allow: hearth_engine::ToolAllow = tool.parse()?;
            let Some(name) = allow.tool else {
                bail!("revoke names one tool: SERVER/TOOL");
            };
            let engine = ctx.open()?;
            if !engine.revoke_tool_grant(&allow.server, &name, conversation.as_deref())? {
                bail!("there is no such grant; `hearth tool grants` lists them");
            }
            errln!("Revoked: {}/{name} will be asked again.", allow.server);
            Ok(())
        }
    }
}

fn list(ctx: &Context, with_tools: bool, as_json: bool) -> Result<()> {
    let engine = ctx.open()?;
    let servers = engine.tool_servers()?;
    let rt = runtime()?;
    let mut items = Vec::new();
    for s in &servers {
        // A server that will not start is reported, and the others still listed.
        let tools = if with_tools {
            Some(rt.block_on(engine.server_tools(&s.name)))
        } else {
            None
        };
        if as_json {
            let mut item = serde_json::to_value(s)?;
            match &tools {
                Some(Ok(tools)) => {
                    item["tools"] = tools
                        .iter()
                        .map(|t| {
                            json!({
                                "name": t.name,
                                "description": t.description,
                                "input_schema": t.input_schema,
                            })
                        })
                        .collect();
                }
                Some(Err(e)) => item["error"] = e.to_string().into(),
                None => {}
            }
            items.push(item);
            continue;
        }
        let target = match (&s.command, &s.url) {
            (Some(c), _) => {
                let mut line = std::iter::once(c.as_str())
                    .chain(s.args.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" ");
                if !s.env_names.is_empty() {
                    line.push_str(&format!("  (env: {})", s.env_names.join(", ")));
                }
                line
            }
            (None, Some(u)) => {
                let mut line = u.clone();
                if !s.header_names.is_empty() {
                    line.push_str(&format!("  (headers: {})", s.header_names.join(", ")));
                }
                line
            }
            (None, None) => String::new(),
        };
        let state = if s.enabled { "" } else { "  [off]" };
        outln!(
            "{}  {}  {}{state}",
            s.name,
            s.transport,
            terminal_safe(&target)
        )?;
        match tools {
            Some(Ok(tools)) => {
                for t in tools {
                    let first = t.description.lines().next().unwrap_or("");
                    outln!("    {}  {}", terminal_safe(&t.name), terminal_safe(first))?;
                }
            }
            Some(Err(e)) => errln!("    {}", terminal_safe(&e.to_string())),
            None => {}
        }
    }
    rt.block_on(engine.stop_tool_servers());
    if as_json {
        return print_json(&items);
    }
    if servers.is_empty() {
        errln!("No tool servers. Add one with `hearth tool add NAME -- COMMAND` or `--url URL`.");
    }
    Ok(())
}

/// Shows a call asking for approval on stderr.
pub fn show_request(call: &ToolCallView) {
    errln!(
        "\nThe model wants to run {}/{} with:",
        terminal_safe(&call.server),
        terminal_safe(&call.tool)
    );
    for line in call.arguments.lines() {
        errln!("  {}", terminal_safe(line));
    }
}

/// Asks on the terminal whether a call may run: y (once), c (in this conversation),
/// a (always), anything else no. `None` when there is no terminal to ask on.
pub fn ask(call: &ToolCallView) -> Option<ToolDecision> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let mut out = tty.try_clone().ok()?;
    let _ = write!(
        out,
        "Allow {}/{}? [y]es once, [c] in this conversation, [a]lways, [N]o: ",
        terminal_safe(&call.server),
        terminal_safe(&call.tool)
    );
    let _ = out.flush();
    let mut answer = String::new();
    BufReader::new(tty).read_line(&mut answer).ok()?;
    Some(match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => ToolDecision::Once,
        "c" => ToolDecision::Conversation,
        "a" => ToolDecision::Always,
        _ => ToolDecision::Deny,
    })
}

/// One line on stderr for a call that ended.
pub fn show_result(call: &ToolCallView) {
    let name = format!(
        "{}/{}",
        terminal_safe(&call.server),
        terminal_safe(&call.tool)
    );
    let result = call.result.as_deref().unwrap_or("");
    let first: String = result
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    match call.status {
        hearth_engine::ToolCallStatus::Approved => errln!("[{name}: done]"),
        hearth_engine::ToolCallStatus::Denied => errln!("[{name}: denied]"),
        other => errln!("[{name}: {other}: {}]", terminal_safe(&first)),
    }
}
