//! `hearth`: the terminal front end over Hearth's engine.
//!
//! Every command resolves the data directory, opens the engine, makes one or two engine
//! calls and prints the result. Errors end the process with one line on stderr and a
//! non-zero status.

mod args;
mod chat;
mod commands;
mod output;
mod unlock;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    init_logging();
    match commands::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the top error and its causes, joined.
            let mut line = err.to_string();
            for cause in err.chain().skip(1) {
                line.push_str(": ");
                line.push_str(&cause.to_string());
            }
            let line = line.replace(['\r', '\n'], " ");
            eprintln!("hearth: {}", output::terminal_safe(&line));
            ExitCode::FAILURE
        }
    }
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
