//! `hearth project …`, `hearth move`, `hearth prompt …`, and the settings and filters
//! `chat`, `list` and `search` take.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use hearth_engine::{
    Engine, ModelSettings, PickedFile, ProjectChange, Reasoning, Role, SearchFilter,
};
use serde_json::json;

use crate::args::{ProjectCommand, PromptCommand, ReasoningArg, RoleArg, SettingsArgs};
use crate::output::{errln, format_time, outln, print_json, print_text, terminal_safe};
use crate::unlock::Context;

impl From<ReasoningArg> for Reasoning {
    fn from(r: ReasoningArg) -> Self {
        match r {
            ReasoningArg::Low => Reasoning::Low,
            ReasoningArg::Medium => Reasoning::Medium,
            ReasoningArg::High => Reasoning::High,
        }
    }
}

impl SettingsArgs {
    /// The settings given, or `None` when none was.
    pub fn given(&self) -> Option<ModelSettings> {
        let s = ModelSettings {
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            reasoning: self.reasoning.map(Reasoning::from),
        };
        (!s.is_empty()).then_some(s)
    }
}

/// Reads a text file, or standard input for `-`.
fn read_text(path: &Path) -> Result<String> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    Ok(text)
}

/// What a settings value looks like in text.
fn settings_text(s: &ModelSettings) -> String {
    let mut parts = Vec::new();
    if let Some(t) = s.temperature {
        parts.push(format!("temperature {t}"));
    }
    if let Some(n) = s.max_tokens {
        parts.push(format!("max tokens {n}"));
    }
    if let Some(r) = s.reasoning {
        parts.push(format!("reasoning {}", r.as_str()));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// Model settings as JSON output prints them: each field, `null` when unset.
pub fn settings_json(s: &ModelSettings) -> serde_json::Value {
    json!({
        "temperature": s.temperature,
        "max_tokens": s.max_tokens,
        "reasoning": s.reasoning.map(Reasoning::as_str),
    })
}

/// Runs `hearth project …`.
pub fn project(ctx: &Context, cmd: ProjectCommand) -> Result<()> {
    let engine = ctx.open()?;
    match cmd {
        ProjectCommand::Add {
            name,
            instructions_file,
        } => {
            let instructions = match &instructions_file {
                Some(path) => read_text(path)?,
                None => String::new(),
            };
            let p = engine.create_project(&name, &instructions)?;
            errln!("Created project {} ({}).", terminal_safe(&p.name), p.id);
        }
        ProjectCommand::List(f) => {
            let projects = engine.projects()?;
            if f.json {
                let items: Vec<_> = projects
                    .iter()
                    .map(|s| {
                        json!({
                            "id": s.project.id,
                            "name": s.project.name,
                            "conversations": s.conversations,
                            "files": s.files,
                            "provider_id": s.project.provider_id,
                            "model": s.project.model,
                            "updated_at": s.project.updated_at,
                        })
                    })
                    .collect();
                return print_json(&items);
            }
            if projects.is_empty() {
                errln!("No projects yet; create one with `hearth project add NAME`.");
            }
            for s in projects {
                print_text(&format!(
                    "{}  {:>4} chats  {:>2} files  {}\n",
                    s.project.id,
                    s.conversations,
                    s.files,
                    terminal_safe(&s.project.name)
                ))?;
            }
        }
        ProjectCommand::Show { name, json: f } => {
            let p = engine.find_project(&name)?;
            let files = engine.project_files(&p.id)?;
            let settings = ModelSettings::from_json(p.params_json.as_deref());
            if f.json {
                return print_json(&json!({
                    "id": p.id,
                    "name": p.name,
                    "instructions": p.instructions,
                    "provider_id": p.provider_id,
                    "model": p.model,
                    "settings": settings_json(&settings),
                    "created_at": p.created_at,
                    "updated_at": p.updated_at,
                    "files": files.iter().map(|f| json!({
                        "id": f.id, "name": f.name, "media_type": f.media_type,
                        "size": f.size, "sha256": f.sha256,
                    })).collect::<Vec<_>>(),
                }));
            }
            print_text(&format!("{}\n", terminal_safe(&p.name)))?;
            print_text(&format!(
                "model: {} / {}\nsettings: {}\nupdated: {}\n",
                p.provider_id.as_deref().unwrap_or("(default)"),
                p.model.as_deref().unwrap_or("(default)"),
                settings_text(&settings),
                format_time(p.updated_at)
            ))?;
            if !p.instructions.is_empty() {
                print_text(&format!(
                    "\ninstructions:\n{}\n",
                    terminal_safe(&p.instructions)
                ))?;
            }
            if !files.is_empty() {
                print_text("\nfiles:\n")?;
                for f in files {
                    print_text(&format!(
                        "  {}  {}  {} bytes  {}\n",
                        f.id,
                        f.media_type,
                        f.size,
                        terminal_safe(&f.name)
                    ))?;
                }
            }
        }
        ProjectCommand::Rename { name, new_name } => {
            let p = engine.find_project(&name)?;
            let p = engine.change_project(
                &p.id,
                ProjectChange {
                    name: Some(new_name),
                    ..Default::default()
                },
            )?;
            errln!("Renamed the project to {}.", terminal_safe(&p.name));
        }
        ProjectCommand::Remove {
            name,
            with_conversations,
        } => {
            let p = engine.find_project(&name)?;
            let deleted = engine.delete_project(&p.id, with_conversations)?;
            if with_conversations {
                errln!(
                    "Deleted project {} and its {deleted} conversation{}.",
                    terminal_safe(&p.name),
                    if deleted == 1 { "" } else { "s" }
                );
            } else {
                errln!(
                    "Deleted project {}; its conversations are kept, in no project.",
                    terminal_safe(&p.name)
                );
            }
        }
        ProjectCommand::Set {
            name,
            instructions_file,
            provider,
            model,
            no_model,
            settings,
            clear_settings,
        } => {
            let p = engine.find_project(&name)?;
            let instructions = instructions_file.as_deref().map(read_text).transpose()?;
            let model = if no_model {
                Some((None, None))
            } else if provider.is_some() || model.is_some() {
                // A model alone keeps the project's provider (or the default one).
                Some((provider.or(p.provider_id.clone()), model))
            } else {
                None
            };
            let base = if clear_settings {
                ModelSettings::default()
            } else {
                ModelSettings::from_json(p.params_json.as_deref())
            };
            let new_settings = match settings.given() {
                Some(s) => Some(s.over(base)),
                None if clear_settings => Some(ModelSettings::default()),
                None => None,
            };
            if instructions.is_none() && model.is_none() && new_settings.is_none() {
                bail!("nothing to change: give --instructions-file, --provider, --model, --no-model, a setting or --clear-settings");
            }
            let p = engine.change_project(
                &p.id,
                ProjectChange {
                    name: None,
                    instructions,
                    model,
                    settings: new_settings,
                },
            )?;
            errln!(
                "Project {}: model {} / {}, settings: {}.",
                terminal_safe(&p.name),
                p.provider_id.as_deref().unwrap_or("(default)"),
                p.model.as_deref().unwrap_or("(default)"),
                settings_text(&ModelSettings::from_json(p.params_json.as_deref()))
            );
        }
        ProjectCommand::Attach { name, files } => {
            let p = engine.find_project(&name)?;
            let picked = files
                .iter()
                .map(|f| PickedFile::read(f))
                .collect::<hearth_engine::Result<Vec<_>>>()?;
            let added = engine.add_project_files(&p.id, &picked)?;
            for f in added {
                outln!("{}", f.id)?;
                errln!(
                    "Added {} to {}.",
                    terminal_safe(&f.name),
                    terminal_safe(&p.name)
                );
            }
        }
        ProjectCommand::Detach { id } => {
            engine.remove_project_file(&id)?;
            errln!("Removed file {id} from its project.");
        }
    }
    Ok(())
}

/// Runs `hearth move`.
pub fn move_conversation(ctx: &Context, id: &str, project: Option<&str>) -> Result<()> {
    let engine = ctx.open()?;
    match project {
        Some(name) => {
            let p = engine.find_project(name)?;
            engine.move_conversation(id, Some(&p.id))?;
            errln!("Moved {id} into {}.", terminal_safe(&p.name));
        }
        None => {
            engine.move_conversation(id, None)?;
            errln!("Moved {id} out of its project.");
        }
    }
    Ok(())
}

/// Runs `hearth prompt …`.
pub fn prompt(ctx: &Context, cmd: PromptCommand) -> Result<()> {
    let engine = ctx.open()?;
    match cmd {
        PromptCommand::Add { name, text } => {
            let text = match text {
                Some(t) => t,
                None => read_text(Path::new("-"))?,
            };
            let p = engine.create_prompt(&name, text.trim_end())?;
            errln!("Saved prompt {}.", terminal_safe(&p.name));
        }
        PromptCommand::List(f) => {
            let prompts = engine.prompts()?;
            if f.json {
                let items: Vec<_> = prompts
                    .iter()
                    .map(|p| json!({"id": p.id, "name": p.name, "text": p.text, "updated_at": p.updated_at}))
                    .collect();
                return print_json(&items);
            }
            if prompts.is_empty() {
                errln!("No saved prompts yet; add one with `hearth prompt add NAME`.");
            }
            for p in prompts {
                let first = p.text.lines().next().unwrap_or("");
                let preview: String = first.chars().take(60).collect();
                print_text(&format!(
                    "{}  {}\n",
                    terminal_safe(&p.name),
                    terminal_safe(&preview)
                ))?;
            }
        }
        PromptCommand::Show { name } => {
            let p = engine.find_prompt(&name)?;
            print_text(&format!("{}\n", terminal_safe(&p.text)))?;
        }
        PromptCommand::Remove { name } => {
            let p = engine.find_prompt(&name)?;
            engine.delete_prompt(&p.id)?;
            errln!("Deleted prompt {}.", terminal_safe(&p.name));
        }
    }
    Ok(())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The start of a day written YYYY-MM-DD, in Unix ms (UTC).
pub fn day_start(text: &str, flag: &str) -> Result<i64> {
    let bad =
        || anyhow::anyhow!("{flag} takes a date as YYYY-MM-DD (such as 2026-01-31), not {text:?}");
    let mut parts = text.trim().splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let y: i64 = y.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    let d: u32 = d.parse().map_err(|_| bad())?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if !(1..=days_in_month).contains(&d) || !(1..=9999).contains(&y) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d) * 86_400_000)
}

/// The search filter the flags ask for.
pub fn search_filter(
    engine: &Engine,
    project: Option<&str>,
    role: Option<RoleArg>,
    since: Option<&str>,
    until: Option<&str>,
    archived: Option<bool>,
) -> Result<SearchFilter> {
    let since = since.map(|s| day_start(s, "--since")).transpose()?;
    // Up to and including the day given.
    let until = until
        .map(|u| day_start(u, "--until").map(|t| t + 86_400_000))
        .transpose()?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            bail!("--since is after --until: nothing can match");
        }
    }
    Ok(SearchFilter {
        project_id: project
            .map(|p| engine.find_project(p))
            .transpose()?
            .map(|p| p.id),
        archived,
        role: role.map(|r| match r {
            RoleArg::User => Role::User,
            RoleArg::Assistant => Role::Assistant,
        }),
        since,
        until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_days_in_utc_and_nonsense_is_refused() {
        assert_eq!(day_start("1970-01-01", "--since").unwrap(), 0);
        assert_eq!(day_start("2000-03-01", "--since").unwrap(), 951_868_800_000);
        assert_eq!(
            day_start("2024-02-29", "--since").unwrap(),
            1_709_164_800_000
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "yesterday",
            "2026-1",
            "",
        ] {
            assert!(day_start(bad, "--since").is_err(), "{bad}");
        }
        assert_eq!(
            crate::output::format_time(day_start("2026-12-06", "--since").unwrap()),
            "2026-12-06 00:00"
        );
    }
}
