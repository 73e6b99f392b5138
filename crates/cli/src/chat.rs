//! `hearth chat` and `hearth models`: the commands that talk to providers.
//!
//! `chat` writes only the reply text to stdout, as it arrives, so it pipes cleanly;
//! progress and errors go to stderr. Ctrl-C stops the reply: dropping it closes the
//! connection, and the engine keeps the partial text as `cancelled`.

use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use hearth_engine::attachment::PickedFile;
use hearth_engine::{EngineError, ProviderError, ReplyEvent, SendRequest, TemporaryTurn};

use crate::output::{errln, outln, print_json, stdout_is_terminal, terminal_safe};
use crate::unlock::Context;

/// Exit status after Ctrl-C, as shells expect (128 + SIGINT).
const EXIT_INTERRUPTED: i32 = 130;

/// Exit status when the model refused to answer: a reply arrived, but not an answer, and
/// a script must not take it for one.
const EXIT_REFUSED: i32 = 3;

/// How a streamed reply ended, when it did not fail outright.
enum Ended {
    /// The reply is complete.
    Complete,
    /// Ctrl-C stopped it.
    Interrupted,
    /// The model refused; the line to print on stderr.
    Refused(String),
}

impl Ended {
    /// Prints what is left to say and ends the process with this ending's status.
    fn exit(self) -> Result<()> {
        match self {
            Ended::Complete => Ok(()),
            Ended::Interrupted => std::process::exit(EXIT_INTERRUPTED),
            Ended::Refused(line) => {
                errln!(
                    "hearth: {}",
                    terminal_safe(&line.replace(['\r', '\n'], " "))
                );
                std::process::exit(EXIT_REFUSED)
            }
        }
    }
}

/// Ends the reply's output after a failure: text already printed gets its newline, on a
/// terminal and in a pipe alike, so the error never runs on from the reply.
fn end_partial(out: &mut impl Write, wrote: bool) -> Result<()> {
    if wrote {
        writeln!(out)?;
        out.flush()?;
    }
    Ok(())
}

/// The single-threaded runtime a command that awaits runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn read_message(message: Option<String>) -> Result<String> {
    match message.as_deref() {
        Some("-") | None => {
            if std::io::stdin().is_terminal() {
                errln!("Type your message, then Ctrl-D:");
            }
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the message from standard input")?;
            Ok(text)
        }
        Some(text) => Ok(text.to_owned()),
    }
}

/// How long a chat waits for the provider and for tools.
pub struct Limits {
    /// The provider's silence limit, in seconds.
    pub idle_secs: u64,
    /// The deadline of a tool server's start and of each call, in seconds.
    pub tool_secs: u64,
}

/// Sends the message and streams the reply.
pub fn chat(
    ctx: &Context,
    mut request: SendRequest,
    message: Option<String>,
    limits: Limits,
) -> Result<()> {
    request.text = read_message(message)?;
    if request.text.trim().is_empty() {
        bail!("the message is empty");
    }
    let mut engine = ctx.open()?;
    engine.set_idle_timeout(Duration::from_secs(limits.idle_secs.max(1)));
    let tool_deadline = Duration::from_secs(limits.tool_secs.max(1));
    engine.set_tool_timeouts(hearth_engine::ToolTimeouts {
        start: tool_deadline,
        call: tool_deadline,
    });
    let tty = stdout_is_terminal();
    let rt = runtime()?;
    let ended = rt.block_on(async {
        // One Ctrl-C listener for the whole command, from before the request is sent.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let mut reply = tokio::select! {
            started = engine.send(request) => match started {
                Ok(reply) => reply,
                Err(EngineError::Provider { error, conversation_id }) => {
                    bail!("{error}. Your message is saved in conversation {conversation_id}")
                }
                Err(e @ EngineError::Tool(_)) => {
                    bail!("{e}. Your message is saved; fix the server (`hearth tool list --tools` shows what it says) and send again, or send without --tools")
                }
                Err(e) => return Err(e.into()),
            },
            // Dropping the send saves the reply as cancelled and closes the connection.
            _ = &mut ctrl_c => {
                errln!("Stopped before the reply began. Your message is saved.");
                return Ok(Ended::Interrupted);
            }
        };
        let conversation = reply.conversation_id().to_owned();
        let mut out = std::io::stdout().lock();
        let mut wrote = false;
        let interrupted = loop {
            tokio::select! {
                event = reply.next() => match event {
                    None => break false,
                    Some(Ok(ReplyEvent::Text(text))) => {
                        // A model must not be able to drive the terminal; a pipe gets the
                        // text exactly as sent.
                        let text = if tty { terminal_safe(&text).into_owned() } else { text };
                        out.write_all(text.as_bytes())?;
                        out.flush()?;
                        wrote |= !text.is_empty();
                    }
                    // Reasoning is saved with the message; stdout carries only the answer.
                    Some(Ok(ReplyEvent::Reasoning(_))) => {}
                    Some(Ok(ReplyEvent::ToolApproval(call))) => {
                        end_partial(&mut out, wrote)?;
                        wrote = false;
                        crate::tools::show_request(&call);
                        let asking = tokio::task::spawn_blocking({
                            let call = call.clone();
                            move || crate::tools::ask(&call)
                        });
                        let answer = tokio::select! {
                            answer = asking => answer.ok().flatten(),
                            _ = &mut ctrl_c => break true,
                        };
                        let decision = match answer {
                            Some(d) => d,
                            None => {
                                errln!(
                                    "hearth: denied {}/{}: there is no terminal to ask on (allow it with --allow {}/{})",
                                    terminal_safe(&call.server), terminal_safe(&call.tool),
                                    terminal_safe(&call.server), terminal_safe(&call.tool),
                                );
                                hearth_engine::ToolDecision::Deny
                            }
                        };
                        reply.decide(decision)?;
                    }
                    Some(Ok(ReplyEvent::ToolStarted(call))) => {
                        end_partial(&mut out, wrote)?;
                        wrote = false;
                        errln!("[running {}/{}]", terminal_safe(&call.server), terminal_safe(&call.tool));
                    }
                    Some(Ok(ReplyEvent::ToolResult(call))) => {
                        end_partial(&mut out, wrote)?;
                        wrote = false;
                        crate::tools::show_result(&call);
                    }
                    Some(Err(EngineError::ToolSteps { message, conversation_id })) => {
                        end_partial(&mut out, wrote)?;
                        bail!("{message}, in conversation {conversation_id}");
                    }
                    Some(Err(EngineError::Provider { error, .. })) => {
                        end_partial(&mut out, wrote)?;
                        let saved = if reply.content().is_empty() {
                            "Your message is saved"
                        } else if matches!(error, ProviderError::Refused { .. }) {
                            "Your message and the refusal are saved"
                        } else {
                            "Your message and the partial reply are saved"
                        };
                        let line = format!("{error}. {saved} in conversation {conversation}");
                        if matches!(error, ProviderError::Refused { .. }) {
                            return Ok(Ended::Refused(line));
                        }
                        bail!("{line}");
                    }
                    Some(Err(e)) => return Err(e.into()),
                },
                _ = &mut ctrl_c => break true,
            }
        };
        if tty && wrote {
            writeln!(out)?;
        }
        drop(out);
        let empty = reply.content().is_empty();
        // Dropping the reply closes the connection and saves the text as cancelled.
        drop(reply);
        if !interrupted {
            errln!("conversation {conversation}");
            return Ok(Ended::Complete);
        }
        if empty {
            errln!("Stopped before any text arrived. Your message is saved in conversation {conversation}.");
        } else {
            errln!("Stopped. The partial reply is saved in conversation {conversation}.");
        }
        Ok::<Ended, anyhow::Error>(Ended::Interrupted)
    })?;
    engine.lock()?;
    ended.exit()
}

/// Reads and checks the files to send, before the vault is opened or anything is sent:
/// one that cannot be attached stops the command with nothing saved.
pub fn read_attachments(paths: &[std::path::PathBuf]) -> Result<Vec<PickedFile>> {
    hearth_engine::attachment::check_count(paths.len())?;
    Ok(paths
        .iter()
        .map(|p| PickedFile::read(p))
        .collect::<hearth_engine::Result<Vec<_>>>()?)
}

/// A temporary chat: one message and its reply, streamed like `chat`, saved nowhere.
pub fn temporary(
    ctx: &Context,
    provider: Option<String>,
    model: Option<String>,
    message: Option<String>,
    files: Vec<PickedFile>,
    settings: hearth_engine::ModelSettings,
    idle_secs: u64,
) -> Result<()> {
    let text = read_message(message)?;
    if text.trim().is_empty() {
        bail!("the message is empty");
    }
    let mut engine = ctx.open()?;
    engine.set_idle_timeout(Duration::from_secs(idle_secs.max(1)));
    let tty = stdout_is_terminal();
    let turns = [TemporaryTurn {
        from_user: true,
        text,
        files,
    }];
    let rt = runtime()?;
    let ended = rt.block_on(async {
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let mut reply = tokio::select! {
            started = engine.send_temporary_with(&turns, None, provider.as_deref(), model.as_deref(), settings) => started?,
            _ = &mut ctrl_c => return Ok(Ended::Interrupted),
        };
        let mut out = std::io::stdout().lock();
        let mut wrote = false;
        let interrupted = loop {
            tokio::select! {
                event = reply.next() => match event {
                    None => break false,
                    Some(Ok(ReplyEvent::Text(text))) => {
                        let text = if tty { terminal_safe(&text).into_owned() } else { text };
                        out.write_all(text.as_bytes())?;
                        out.flush()?;
                        wrote |= !text.is_empty();
                    }
                    Some(Ok(ReplyEvent::Reasoning(_))) => {}
                    // A temporary chat offers no tools.
                    Some(Ok(ReplyEvent::ToolApproval(_) | ReplyEvent::ToolStarted(_) | ReplyEvent::ToolResult(_))) => {}
                    Some(Err(e)) => {
                        end_partial(&mut out, wrote)?;
                        let line = format!("{e}. This was a temporary chat: nothing was saved");
                        if matches!(e, EngineError::Setup(ProviderError::Refused { .. })) {
                            return Ok(Ended::Refused(line));
                        }
                        bail!("{line}")
                    }
                },
                _ = &mut ctrl_c => break true,
            }
        };
        if tty && wrote {
            writeln!(out)?;
        }
        errln!("Temporary chat: nothing was saved.");
        Ok::<Ended, anyhow::Error>(if interrupted {
            Ended::Interrupted
        } else {
            Ended::Complete
        })
    })?;
    engine.lock()?;
    ended.exit()
}

/// Lists a provider's models.
pub fn models(ctx: &Context, provider: &str, as_json: bool) -> Result<()> {
    let engine = ctx.open()?;
    let rt = runtime()?;
    let models = rt.block_on(engine.list_models(provider))?;
    if as_json {
        let items: Vec<_> = models
            .iter()
            .map(|m| serde_json::json!({ "id": m.id, "name": m.name }))
            .collect();
        return print_json(&items);
    }
    // Ids and names come from the provider: neutralised like any text it sends.
    for m in models {
        match m.name {
            Some(name) if name != m.id => {
                outln!("{}  ({})", terminal_safe(&m.id), terminal_safe(&name))?
            }
            _ => outln!("{}", terminal_safe(&m.id))?,
        }
    }
    Ok(())
}
