//! One function per command: parse nothing, decide nothing the engine should decide.

use std::io::{IsTerminal, Read};

use anyhow::{bail, Context as _, Result};
use hearth_engine::{Engine, KeyProtection, Message, ProviderUpdate, SendRequest};
use serde_json::json;
use zeroize::Zeroizing;

use crate::args::{
    AttachmentCommand, Cli, Command, KeyCommand, PassphraseCommand, ProviderCommand, ShowFormat,
};
use crate::output::{
    errln, format_time, outln, print_json, print_marked, print_text, stdout_is_terminal,
    terminal_safe,
};
use crate::unlock::Context;

/// What `main` managed to harden (reported by `status --json`).
pub static HARDENED: std::sync::OnceLock<hearth_engine::Hardened> = std::sync::OnceLock::new();

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Context::new(cli.data_dir, cli.passphrase_file)?;
    match cli.command {
        Command::Export(args) => crate::export::run(&ctx, args),
        Command::Import(args) => crate::import::run(&ctx, args),
        Command::Init {
            passphrase,
            no_keychain,
        } => init(&ctx, passphrase, no_keychain),
        Command::Chat {
            provider,
            model,
            idle_timeout,
            temporary: true,
            attach,
            settings,
            message,
            ..
        } => crate::chat::temporary(
            &ctx,
            provider,
            model,
            message,
            crate::chat::read_attachments(&attach)?,
            settings.given().unwrap_or_default(),
            idle_timeout,
        ),
        Command::Chat {
            conversation,
            provider,
            model,
            idle_timeout,
            attach,
            tools,
            allow,
            tool_timeout,
            project,
            settings,
            message,
            ..
        } => crate::chat::chat(
            &ctx,
            SendRequest {
                project_id: match project {
                    Some(name) => Some(ctx.open()?.find_project(&name)?.id),
                    None => None,
                },
                settings: settings.given(),
                conversation_id: conversation,
                provider_id: provider,
                model,
                text: String::new(),
                files: crate::chat::read_attachments(&attach)?,
                // `--tools ''` gives one empty name: no servers.
                tools: tools.map(|t| t.into_iter().filter(|n| !n.is_empty()).collect()),
                allow: allow
                    .iter()
                    .map(|a| a.parse())
                    .collect::<hearth_engine::Result<_>>()?,
            },
            message,
            crate::chat::Limits {
                idle_secs: idle_timeout,
                tool_secs: tool_timeout,
            },
        ),
        Command::Models { provider, json } => crate::chat::models(&ctx, &provider, json.json),
        Command::Status(f) => status(&ctx, f.json),
        Command::Retention { days } => retention(&ctx, days.as_deref()),
        Command::Check => check(&ctx),
        Command::List {
            archived,
            project,
            unfiled,
            json,
        } => list(&ctx, archived, project.as_deref(), unfiled, json.json),
        Command::Show { id, format } => show(&ctx, &id, format),
        Command::Search {
            query,
            limit,
            project,
            role,
            since,
            until,
            archived,
            active,
            json,
        } => {
            let engine = ctx.open()?;
            let only = match (archived, active) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let filter = crate::projects::search_filter(
                &engine,
                project.as_deref(),
                role,
                since.as_deref(),
                until.as_deref(),
                only,
            )?;
            search(&engine, &query, &filter, limit, json.json)
        }
        Command::Rename { id, title } => {
            ctx.open()?.rename_conversation(&id, &title)?;
            errln!("Renamed {id}.");
            Ok(())
        }
        Command::Pin { id, off } => {
            ctx.open()?.set_pinned(&id, !off)?;
            errln!("{} {id}.", if off { "Unpinned" } else { "Pinned" });
            Ok(())
        }
        Command::Archive { id, off } => {
            ctx.open()?.set_archived(&id, !off)?;
            errln!("{} {id}.", if off { "Restored" } else { "Archived" });
            Ok(())
        }
        Command::Delete { id } => {
            ctx.open()?.delete_conversation(&id)?;
            errln!("Deleted conversation {id} and all its messages.");
            Ok(())
        }
        Command::Erase { yes } => erase(&ctx, yes),
        Command::Key(cmd) => key(&ctx, cmd),
        Command::Passphrase(PassphraseCommand::Change { new }) => {
            crate::protect::change_passphrase(&ctx, &new)
        }
        Command::Protect {
            keychain,
            passphrase,
            new,
        } => crate::protect::protect(&ctx, keychain, passphrase, &new),
        Command::Rekey => crate::protect::rekey(&ctx),
        Command::Attachment(AttachmentCommand::Save { id, output }) => {
            let saved = ctx.open()?.save_attachment(&id, &output)?;
            errln!(
                "Saved {} ({} bytes) to {}.",
                terminal_safe(&saved.name),
                saved.size,
                output.display()
            );
            Ok(())
        }
        Command::Provider(cmd) => provider(&ctx, cmd),
        Command::Tool(cmd) => crate::tools::tool(&ctx, cmd),
        Command::Project(cmd) => crate::projects::project(&ctx, cmd),
        Command::Move { id, project, .. } => {
            crate::projects::move_conversation(&ctx, &id, project.as_deref())
        }
        Command::Prompt(cmd) => crate::projects::prompt(&ctx, cmd),
        Command::VaultKey { reveal } => vault_key(&ctx, reveal),
    }
}

fn init(ctx: &Context, with_passphrase: bool, no_keychain: bool) -> Result<()> {
    if no_keychain && !with_passphrase {
        bail!("--no-keychain needs --passphrase: without the keychain, a passphrase is the only way to protect the vault");
    }
    let passphrase = if with_passphrase {
        Some(match ctx.given_passphrase()? {
            Some(p) => p,
            None => {
                let first = ctx.ask_passphrase("New vault passphrase: ")?;
                let again = ctx.ask_passphrase("Repeat it: ")?;
                if first.expose() != again.expose() {
                    bail!("the two passphrases differ; nothing was created");
                }
                first
            }
        })
    } else {
        None
    };
    let protection = match (passphrase, no_keychain) {
        (None, _) => KeyProtection::Keychain,
        (Some(p), true) => KeyProtection::Passphrase(p),
        (Some(p), false) => KeyProtection::KeychainAndPassphrase(p),
    };
    let engine = Engine::create(&ctx.paths, ctx.store(), protection)?;
    let status = engine.status()?;
    let how = match status.mode.as_str() {
        "keychain" => "its key is kept in your OS keychain",
        "passphrase" => "it is unlocked with your passphrase (the OS keychain is not used)",
        _ => "its key is kept in your OS keychain, and your passphrase opens it too",
    };
    errln!(
        "Created an encrypted vault in {}; {how}.",
        ctx.paths.data_dir().display()
    );
    Ok(())
}

fn status(ctx: &Context, as_json: bool) -> Result<()> {
    let dir = ctx.paths.data_dir().display().to_string();
    if !Engine::exists(&ctx.paths) {
        if as_json {
            return print_json(&json!({ "initialized": false, "paths": { "data_dir": dir } }));
        }
        outln!("No vault yet in {dir}.\nCreate one with `hearth init` (key in the OS keychain) or `hearth init --passphrase --no-keychain`.")?;
        return Ok(());
    }
    let header = Engine::header(&ctx.paths)?;
    let Some(engine) = ctx.open_without_prompt()? else {
        let mode = if header.keychain {
            "keychain+passphrase"
        } else {
            "passphrase"
        };
        if as_json {
            return print_json(&json!({
                "initialized": true, "locked": true, "vault_id": header.vault_id, "mode": mode,
                "created_at": header.created_at,
                "paths": {
                    "data_dir": dir,
                    "database": ctx.paths.database().display().to_string(),
                    "header": ctx.paths.header().display().to_string(),
                },
            }));
        }
        outln!("Vault      {} ({mode}), locked", header.vault_id)?;
        outln!("Data       {dir}")?;
        outln!("Unlock with HEARTH_PASSPHRASE or --passphrase-file to see its contents.")?;
        return Ok(());
    };
    let inventory = engine.inventory()?;
    let s = &inventory.status;
    if as_json {
        return print_json(&json!({
            "initialized": true,
            "locked": false,
            "vault_id": s.vault_id,
            "mode": s.mode,
            "created_at": header.created_at,
            "paths": {
                "data_dir": dir,
                "database": ctx.paths.database().display().to_string(),
                "header": ctx.paths.header().display().to_string(),
            },
            "counts": {
                "conversations": s.conversations,
                "archived_conversations": s.archived_conversations,
                "messages": s.messages,
                "attachments": s.attachments,
                "attachment_bytes": s.attachment_bytes,
                "projects": s.projects,
                "project_files": s.project_files,
                "prompts": s.prompts,
            },
            "versions": {
                "hearth": env!("CARGO_PKG_VERSION"),
                "schema": s.schema_version,
                "schema_supported": s.schema_supported,
                "sqlcipher": s.sqlcipher_version,
                "sqlite": s.sqlite_version,
            },
            "files": s.files.iter().map(|(p, n)| json!({ "path": p, "bytes": n })).collect::<Vec<_>>(),
            "provider_keys": inventory.key_location,
            "providers_with_keys": inventory.providers_with_keys,
            "keychain_entries": inventory.keychain_entries,
            "keychain_error": inventory.keychain_error,
            "retention_days": inventory.settings.retention_days,
            "process": {
                "core_dumps_off": HARDENED.get().is_some_and(|h| h.no_core_dumps),
                "not_dumpable": HARDENED.get().is_some_and(|h| h.not_dumpable),
            },
        }));
    }
    outln!("Vault      {} ({})", s.vault_id, s.mode)?;
    outln!("Data       {dir}")?;
    outln!(
        "Contents   {} conversations ({} archived), {} messages, {} attached files ({} bytes)",
        s.conversations,
        s.archived_conversations,
        s.messages,
        s.attachments,
        s.attachment_bytes
    )?;
    outln!(
        "           {} projects ({} files), {} saved prompts",
        s.projects,
        s.project_files,
        s.prompts
    )?;
    outln!(
        "Versions   hearth {}, schema {}, SQLCipher {}, SQLite {}",
        env!("CARGO_PKG_VERSION"),
        s.schema_version,
        s.sqlcipher_version,
        s.sqlite_version
    )?;
    for (path, bytes) in &s.files {
        outln!("File       {path} ({bytes} bytes)")?;
    }
    let keys_in = match inventory.key_location {
        hearth_engine::KeyLocation::Keychain => "the OS keychain",
        hearth_engine::KeyLocation::Vault => "the encrypted vault",
    };
    match inventory.providers_with_keys.as_slice() {
        [] => outln!("API keys   none")?,
        ids => outln!("API keys   {} (in {keys_in})", ids.join(", "))?,
    }
    match &inventory.keychain_error {
        Some(e) => outln!("Keychain   not readable: {e}")?,
        None if inventory.keychain_entries.is_empty() => outln!("Keychain   no Hearth entries")?,
        None => {
            for account in &inventory.keychain_entries {
                outln!("Keychain   {account} (service Hearth)")?;
            }
        }
    }
    match inventory.settings.retention_days {
        Some(days) => outln!(
            "Retention  conversations untouched for {days} days are deleted (pinned ones kept)"
        )?,
        None => outln!("Retention  off: everything is kept")?,
    }
    Ok(())
}

fn retention(ctx: &Context, days: Option<&str>) -> Result<()> {
    let engine = ctx.open()?;
    let mut settings = engine.settings()?;
    if let Some(days) = days {
        settings.retention_days = match days.trim() {
            "off" | "0" => None,
            n => Some(n.parse().map_err(|_| {
                anyhow::anyhow!("retention takes a number of days or `off`, not `{n}`")
            })?),
        };
        engine.set_settings(settings)?;
    }
    match settings.retention_days {
        Some(days) => errln!(
            "Conversations not touched for {days} days are deleted when Hearth starts and daily; pinned ones are kept."
        ),
        None => errln!("Retention is off: every conversation is kept."),
    }
    Ok(())
}

fn check(ctx: &Context) -> Result<()> {
    let store = ctx.store();
    let problems = ctx.unlocked(|p| Engine::check(&ctx.paths, store.as_ref(), p))?;
    if problems.is_empty() {
        errln!("The vault is intact: every page decrypts and authenticates, and the database structure is sound.");
        return Ok(());
    }
    for p in problems.iter().take(20) {
        errln!("  {}", terminal_safe(p));
    }
    bail!(
        "the vault database is damaged ({} problems); nothing was changed. Restore it from a backup or an export",
        problems.len()
    )
}

fn list(
    ctx: &Context,
    archived: bool,
    project: Option<&str>,
    unfiled: bool,
    as_json: bool,
) -> Result<()> {
    let engine = ctx.open()?;
    let project = project.map(|p| engine.find_project(p)).transpose()?;
    let scope = match (&project, unfiled, archived) {
        (Some(p), _, _) => hearth_engine::ConversationScope::Project(&p.id),
        (None, true, _) => hearth_engine::ConversationScope::Unfiled,
        (None, false, true) => hearth_engine::ConversationScope::Everything,
        (None, false, false) => hearth_engine::ConversationScope::Active,
    };
    let rows = engine.list_scope(scope, hearth_engine::MAX_PAGE, 0)?;
    let names: std::collections::HashMap<String, String> = engine
        .projects()?
        .into_iter()
        .map(|s| (s.project.id, s.project.name))
        .collect();
    // Say what the list leaves out, on stderr so scripts reading stdout are unaffected:
    // an import can bring hundreds of archived conversations that would otherwise seem lost.
    let hidden = if archived || project.is_some() || unfiled {
        0
    } else {
        engine.count_archived_conversations()?
    };
    if hidden > 0 {
        errln!(
            "{hidden} archived conversation{} not shown; use --archived",
            if hidden == 1 { "" } else { "s" }
        );
    }
    if as_json {
        let items: Vec<_> = rows
            .iter()
            .map(|c| {
                json!({
                    "id": c.id, "title": c.title, "updated_at": c.updated_at,
                    "message_count": c.message_count, "pinned": c.pinned, "archived": c.archived,
                    "project_id": c.project_id,
                    "project": c.project_id.as_ref().and_then(|p| names.get(p)),
                })
            })
            .collect();
        return print_json(&items);
    }
    if rows.is_empty() && hidden == 0 {
        errln!("No conversations yet.");
    }
    for c in rows {
        let title = if c.title.is_empty() {
            "(untitled)"
        } else {
            &c.title
        };
        let pin = if c.pinned { "*" } else { " " };
        let mut mark = if c.archived { "  (archived)" } else { "" }.to_owned();
        if let Some(name) = c.project_id.as_ref().and_then(|p| names.get(p)) {
            mark.push_str(&format!("  [{}]", terminal_safe(name)));
        }
        print_text(&format!(
            "{}{pin} {}  {:>4} msgs  {}{mark}\n",
            c.id,
            format_time(c.updated_at),
            c.message_count,
            title.replace('\n', " ")
        ))?;
    }
    Ok(())
}

fn message_json(m: &Message) -> serde_json::Value {
    json!({
        "id": m.id, "parent_id": m.parent_id, "role": m.role.as_str(), "content": m.content,
        "reasoning": m.reasoning, "status": m.status.as_str(), "error": m.error,
        "provider_id": m.provider_id, "model": m.model, "tokens_in": m.tokens_in,
        "tokens_out": m.tokens_out, "created_at": m.created_at, "finished_at": m.finished_at,
    })
}

/// The message of a failed reply, as the engine stored it.
fn stored_error(m: &Message) -> Option<String> {
    let text = m.error.as_deref()?;
    Some(
        serde_json::from_str::<hearth_engine::StoredError>(text)
            .map(|e| e.message)
            .unwrap_or_else(|_| text.to_owned()),
    )
}

fn show(ctx: &Context, id: &str, format: ShowFormat) -> Result<()> {
    let engine = ctx.open()?;
    let c = engine.conversation(id)?;
    let messages = engine.visible_messages(id)?;
    let mut attached: std::collections::HashMap<String, Vec<hearth_engine::Attachment>> =
        std::collections::HashMap::new();
    for a in engine.attachments_in(id)? {
        attached.entry(a.message_id.clone()).or_default().push(a);
    }
    let none = Vec::new();
    let files_of = |m: &Message| attached.get(&m.id).unwrap_or(&none);
    let mut made: std::collections::HashMap<String, Vec<hearth_engine::StoredToolCall>> =
        std::collections::HashMap::new();
    for call in engine.tool_calls_in(id)? {
        made.entry(call.message_id.clone()).or_default().push(call);
    }
    let no_calls = Vec::new();
    let calls_of = |m: &Message| made.get(&m.id).unwrap_or(&no_calls);
    match format {
        ShowFormat::Json => print_json(&json!({
            "conversation": {
                "id": c.id, "title": c.title, "created_at": c.created_at, "updated_at": c.updated_at,
                "provider_id": c.provider_id, "model": c.model, "system_prompt": c.system_prompt,
                "pinned": c.pinned, "archived": c.archived, "project_id": c.project_id,
                "settings": crate::projects::settings_json(
                    &hearth_engine::ModelSettings::from_json(c.params_json.as_deref()),
                ),
            },
            "messages": messages.iter().map(|m| {
                let mut value = message_json(m);
                value["attachments"] = files_of(m).iter().map(|a| json!({
                    "id": a.id, "name": a.name, "media_type": a.media_type,
                    "size": a.size, "sha256": a.sha256,
                })).collect();
                value["tool_calls"] = calls_of(m).iter().map(|t| json!({
                    "id": t.id, "server": t.server, "name": t.tool, "arguments": t.arguments,
                    "result": t.result, "status": t.status.as_str(), "step": t.step,
                    "call_id": t.call_id, "created_at": t.created_at, "finished_at": t.finished_at,
                })).collect();
                value
            }).collect::<Vec<_>>(),
        })),
        ShowFormat::Markdown => {
            let mut text = format!(
                "# {}\n\n",
                if c.title.is_empty() {
                    "(untitled)"
                } else {
                    &c.title
                }
            );
            if let Some(system) = &c.system_prompt {
                text.push_str(&format!("**System:** {system}\n\n"));
            }
            for m in &messages {
                let who = match m.role.as_str() {
                    "user" => "You".to_owned(),
                    "assistant" => m.model.clone().unwrap_or_else(|| "Assistant".into()),
                    other => other.to_owned(),
                };
                let note = match (m.status.as_str(), stored_error(m)) {
                    ("complete", _) => String::new(),
                    (other, Some(e)) => format!(" _({other}: {e})_"),
                    (other, None) => format!(" _({other})_"),
                };
                let body = hearth_engine::reply_markdown(&m.content, calls_of(m));
                text.push_str(&format!("## {who}{note}\n\n{body}\n\n"));
                let files = files_of(m);
                if !files.is_empty() {
                    text.push_str("Attached:\n");
                    for a in files {
                        text.push_str(&format!(
                            "- {} ({}, {} bytes, id {})\n",
                            a.name.replace(['\r', '\n'], " "),
                            a.media_type,
                            a.size,
                            a.id
                        ));
                    }
                    text.push('\n');
                }
            }
            print_text(&text)
        }
    }
}

fn search(
    engine: &Engine,
    query: &str,
    filter: &hearth_engine::SearchFilter,
    limit: u32,
    as_json: bool,
) -> Result<()> {
    let hits = engine.search_filtered(query, filter, limit)?;
    if as_json {
        let items: Vec<_> = hits
            .iter()
            .map(|h| {
                json!({
                    "conversation_id": h.conversation_id,
                    "message_id": h.message_id,
                    "role": h.role.map(|r| r.as_str()).unwrap_or("title"),
                    "snippet": h.snippet.text,
                    "highlights": h.snippet.highlights,
                    "archived": h.archived,
                    "title": h.title,
                })
            })
            .collect();
        return print_json(&items);
    }
    if hits.is_empty() {
        errln!("No matches.");
    }
    let (on, off) = if stdout_is_terminal() {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    for h in hits {
        // Neutralise the snippet first, then add our own highlighting.
        let text = terminal_safe(&h.snippet.text).replace('\n', " ");
        let mut marked = String::new();
        let mut inside = None;
        for (i, ch) in text.chars().enumerate() {
            if h.snippet.highlights.iter().any(|&(s, _)| s == i) {
                marked.push_str(on);
                inside = h
                    .snippet
                    .highlights
                    .iter()
                    .find(|&&(s, _)| s == i)
                    .map(|&(_, e)| e);
            }
            marked.push(ch);
            if inside == Some(i + 1) {
                marked.push_str(off);
                inside = None;
            }
        }
        if inside.is_some() {
            marked.push_str(off);
        }
        let role = h.role.map(|r| r.as_str()).unwrap_or("title");
        let mark = if h.archived { "  (archived)" } else { "" };
        // The id came from the vault (an import may have chosen it): neutralised like the
        // snippet, and the line written as it is so the highlighting stays.
        print_marked(&format!(
            "{}  {role:<9}  {marked}{mark}\n",
            terminal_safe(&h.conversation_id)
        ))?;
    }
    Ok(())
}

fn erase(ctx: &Context, yes: bool) -> Result<()> {
    if !yes {
        bail!(
            "erase deletes every conversation, provider key and Hearth file in {} and cannot be undone; run `hearth erase --yes` to do it",
            ctx.paths.data_dir().display()
        );
    }
    if !Engine::exists(&ctx.paths) && !ctx.paths.data_dir().exists() {
        errln!("Nothing to erase in {}.", ctx.paths.data_dir().display());
        return Ok(());
    }
    let report = Engine::erase(&ctx.paths, ctx.store().as_ref())?;
    errln!(
        "Erased every Hearth file in {}; removed {} keychain entries.",
        ctx.paths.data_dir().display(),
        report.keychain_entries_removed
    );
    if let Some(why) = &report.kept_because {
        errln!(
            "Kept this vault's {} keychain entries, because {why}. If you are sure no copy needs them, remove each with `secret-tool clear service Hearth username ACCOUNT` (macOS: Keychain Access; Windows: Credential Manager): {}",
            report.kept_keychain_entries.len(),
            report.kept_keychain_entries.join(", ")
        );
    }
    if report.unattributed_keychain_entries > 0 {
        errln!(
            "vault.json was unreadable, so Hearth could not tell which of the {} Hearth keychain entries were this vault's; \
             see them with `secret-tool search --all service Hearth` and remove them with `secret-tool clear service Hearth username ACCOUNT`.",
            report.unattributed_keychain_entries
        );
    }
    Ok(())
}

fn read_key_from_stdin(provider: &str) -> Result<Zeroizing<String>> {
    if std::io::stdin().is_terminal() {
        let text = rpassword::prompt_password(format!("API key for {provider} (input hidden): "))
            .context("cannot read the key")?;
        return Ok(Zeroizing::new(text));
    }
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the key from standard input")?;
    Ok(text)
}

fn key(ctx: &Context, cmd: KeyCommand) -> Result<()> {
    let engine = ctx.open()?;
    match cmd {
        KeyCommand::Set { provider } => {
            engine.provider(&provider)?;
            let key = read_key_from_stdin(&provider)?;
            let hint = engine.set_api_key(&provider, &key)?;
            let place = match engine.key_location()? {
                hearth_engine::KeyLocation::Keychain => "the OS keychain",
                hearth_engine::KeyLocation::Vault => "the encrypted vault",
            };
            errln!("Saved the key for {provider} in {place} (ends in {hint}).");
        }
        KeyCommand::List(f) => {
            let providers = engine.providers()?;
            if f.json {
                let location = engine.key_location()?;
                let items: Vec<_> = providers
                    .iter()
                    .map(|p| json!({ "provider": p.id, "key_hint": p.key_hint, "location": location }))
                    .collect();
                return print_json(&items);
            }
            for p in providers {
                let state = p.key_hint.unwrap_or_else(|| {
                    if p.local {
                        "not needed".into()
                    } else {
                        "not set".into()
                    }
                });
                outln!("{:<12} {state}", p.id)?;
            }
        }
        KeyCommand::Remove { provider } => {
            if engine.remove_api_key(&provider)? {
                errln!("Removed the key for {provider}.");
            } else {
                errln!("There was no key for {provider}.");
            }
        }
    }
    Ok(())
}

fn provider(ctx: &Context, cmd: ProviderCommand) -> Result<()> {
    let engine = ctx.open()?;
    match cmd {
        ProviderCommand::List(f) => {
            let providers = engine.providers()?;
            if f.json {
                return print_json(&providers);
            }
            for p in providers {
                let default = if p.is_default { "*" } else { " " };
                let key = p
                    .key_hint
                    .as_deref()
                    .unwrap_or(if p.local { "-" } else { "no key" });
                let model = p.default_model.as_deref().unwrap_or("-");
                outln!(
                    "{default}{:<12} {:<18} {:<50} model {model}  key {key}",
                    p.id,
                    p.kind,
                    p.base_url
                )?;
            }
        }
        ProviderCommand::Set {
            id,
            base_url,
            default_model,
            kind,
            default,
        } => {
            // The person at the terminal typed the new address, so the key stays with
            // the provider (the app instead removes it; see Engine::set_provider).
            let moves = match &base_url {
                Some(url) => engine.key_would_move(id.trim(), url)?,
                None => false,
            };
            let info = engine.set_provider_keeping_key(ProviderUpdate {
                id,
                base_url,
                default_model,
                kind,
                make_default: default,
            })?;
            if moves {
                errln!(
                    "Its API key now goes to {}; remove it with `hearth key remove {}` if that is not what you want.",
                    info.base_url,
                    info.id
                );
            }
            errln!(
                "Provider {} ({}) at {}{}.",
                info.id,
                info.kind,
                info.base_url,
                if info.is_default {
                    ", used for new chats"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}

fn vault_key(ctx: &Context, reveal: bool) -> Result<()> {
    if !reveal {
        bail!("`hearth vault-key --reveal` prints the raw key that decrypts all your conversations; add --reveal if that is what you want");
    }
    let store = ctx.store();
    let key = ctx.unlocked(|p| Engine::reveal_data_key(&ctx.paths, store.as_ref(), p))?;
    errln!(
        "Warning: anyone with this key can read every conversation in {}. Keep it secret.",
        ctx.paths.data_dir().display()
    );
    errln!("Open the database with any SQLCipher 4 client: PRAGMA key = \"x'<key>'\";");
    outln!("{}", key.to_hex().as_str())?;
    Ok(())
}
