//! `hearth chat` and `hearth models`: the commands that talk to providers.
//!
//! `chat` writes only the reply text to stdout, as it arrives, so it pipes cleanly;
//! progress and errors go to stderr. Ctrl-C stops the reply: dropping it closes the
//! connection, and the engine keeps the partial text as `cancelled`.

use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use hearth_engine::{EngineError, ReplyEvent, SendRequest, TemporaryTurn};

use crate::output::{print_json, terminal_safe};
use crate::unlock::Context;

/// Exit status after Ctrl-C, as shells expect (128 + SIGINT).
const EXIT_INTERRUPTED: i32 = 130;

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn read_message(message: Option<String>) -> Result<String> {
    match message.as_deref() {
        Some("-") | None => {
            if std::io::stdin().is_terminal() {
                eprintln!("Type your message, then Ctrl-D:");
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

/// Sends the message and streams the reply.
pub fn chat(
    ctx: &Context,
    mut request: SendRequest,
    message: Option<String>,
    idle_secs: u64,
) -> Result<()> {
    request.text = read_message(message)?;
    if request.text.trim().is_empty() {
        bail!("the message is empty");
    }
    let mut engine = ctx.open()?;
    engine.set_idle_timeout(Duration::from_secs(idle_secs.max(1)));
    let tty = std::io::stdout().is_terminal();
    let rt = runtime()?;
    let interrupted = rt.block_on(async {
        // One Ctrl-C listener for the whole command, from before the request is sent.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let mut reply = tokio::select! {
            started = engine.send(request) => match started {
                Ok(reply) => reply,
                Err(EngineError::Provider { error, conversation_id }) => {
                    bail!("{error}. Your message is saved in conversation {conversation_id}")
                }
                Err(e) => return Err(e.into()),
            },
            // Dropping the send saves the reply as cancelled and closes the connection.
            _ = &mut ctrl_c => {
                eprintln!("Stopped before the reply began. Your message is saved.");
                return Ok(true);
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
                        wrote = true;
                    }
                    // Reasoning is saved with the message; stdout carries only the answer.
                    Some(Ok(ReplyEvent::Reasoning(_))) => {}
                    Some(Err(EngineError::Provider { error, .. })) => {
                        if tty && wrote {
                            writeln!(out)?;
                        }
                        bail!("{error}. Your message and the partial reply are saved in conversation {conversation}");
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
        // Dropping the reply closes the connection and saves the text as cancelled.
        drop(reply);
        if interrupted {
            eprintln!("Stopped. The partial reply is saved in conversation {conversation}.");
        } else {
            eprintln!("conversation {conversation}");
        }
        Ok::<bool, anyhow::Error>(interrupted)
    })?;
    engine.lock()?;
    if interrupted {
        std::process::exit(EXIT_INTERRUPTED);
    }
    Ok(())
}

/// A temporary chat: one message and its reply, streamed like `chat`, saved nowhere.
pub fn temporary(
    ctx: &Context,
    provider: Option<String>,
    model: Option<String>,
    message: Option<String>,
    idle_secs: u64,
) -> Result<()> {
    let text = read_message(message)?;
    if text.trim().is_empty() {
        bail!("the message is empty");
    }
    let mut engine = ctx.open()?;
    engine.set_idle_timeout(Duration::from_secs(idle_secs.max(1)));
    let tty = std::io::stdout().is_terminal();
    let turns = [TemporaryTurn {
        from_user: true,
        text,
    }];
    let rt = runtime()?;
    let interrupted = rt.block_on(async {
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let mut reply = tokio::select! {
            started = engine.send_temporary(&turns, None, provider.as_deref(), model.as_deref()) => started?,
            _ = &mut ctrl_c => return Ok(true),
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
                        wrote = true;
                    }
                    Some(Ok(ReplyEvent::Reasoning(_))) => {}
                    Some(Err(e)) => {
                        if tty && wrote {
                            writeln!(out)?;
                        }
                        bail!("{e}. This was a temporary chat: nothing was saved")
                    }
                },
                _ = &mut ctrl_c => break true,
            }
        };
        if tty && wrote {
            writeln!(out)?;
        }
        Ok::<bool, anyhow::Error>(interrupted)
    })?;
    eprintln!("Temporary chat: nothing was saved.");
    engine.lock()?;
    if interrupted {
        std::process::exit(EXIT_INTERRUPTED);
    }
    Ok(())
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
                println!("{}  ({})", terminal_safe(&m.id), terminal_safe(&name))
            }
            _ => println!("{}", terminal_safe(&m.id)),
        }
    }
    Ok(())
}
