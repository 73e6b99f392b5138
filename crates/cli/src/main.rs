//! `hearth`: the terminal front end over Hearth's engine.
//!
//! Every command resolves the data directory, opens the engine, makes one or two engine
//! calls and prints the result. Errors end the process with one line on stderr and a
//! non-zero status.

// Everything reaches the terminal through `output`'s neutralising writer.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod chat;
mod commands;
mod export;
mod import;
mod output;
mod projects;
mod protect;
mod tools;
mod unlock;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    init_logging();
    // First, before any key is read: no core dumps, no ptrace by other processes.
    let hardened = hearth_engine::harden_process();
    commands::HARDENED.get_or_init(|| hardened);
    match commands::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of a pipe stopped reading (`hearth show ID | head`): it has what it
        // wanted, so stop quietly, as other Unix tools do.
        Err(err) if output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let status = match err.downcast_ref::<import::SomeLeftOut>() {
                Some(_) => ExitCode::from(import::EXIT_SOME_LEFT_OUT),
                None => ExitCode::FAILURE,
            };
            // One line: the top error and its causes, joined, and what to run about it.
            let mut line = err.to_string();
            for cause in err.chain().skip(1) {
                // A message that already quotes its cause (`cannot open …: Read-only
                // file system`) does not say it twice.
                let cause = cause.to_string();
                if !line.contains(&cause) {
                    line.push_str(": ");
                    line.push_str(&cause);
                }
            }
            if let Some(hint) = err.downcast_ref().and_then(hint) {
                line.push_str(": ");
                line.push_str(&hint);
            }
            let line = line.replace(['\r', '\n'], " ");
            // Neutralised whatever stderr is: the line may quote a provider or an import.
            output::eprint_text(&format!("hearth: {}\n", output::terminal_safe(&line)));
            status
        }
    }
}

/// The command that fixes a configuration error, in the CLI's words.
fn hint(error: &hearth_engine::EngineError) -> Option<String> {
    use hearth_engine::{EngineError, Missing};
    Some(match error {
        EngineError::NotConfigured(Missing::Provider) => {
            "pass --provider ID, or pick a default with `hearth provider set ID --default`".into()
        }
        EngineError::NotConfigured(Missing::Model(p)) => format!(
            "pass --model M, or set one with `hearth provider set {p} --default-model M` (see `hearth models {p}`)"
        ),
        EngineError::NotConfigured(Missing::Key(p)) => format!("add one with `hearth key set {p}`"),
        EngineError::UnknownProvider(p) => format!(
            "see `hearth provider list`, or add it with `hearth provider set {p} --kind openai-compatible --base-url URL`"
        ),
        _ => return None,
    })
}

/// Diagnostics go to stderr only, at `warn` unless `RUST_LOG` says otherwise. Nothing
/// Hearth logs contains conversation text or keys.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}
