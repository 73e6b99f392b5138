//! The UI's TypeScript types for everything that crosses IPC are generated from the Rust
//! types into `ui/src/lib/bindings/` and checked in. This test generates them again into a
//! temporary directory and fails when the checked-in files differ, are missing, or are left
//! over from a type that no longer exists.
//!
//! To regenerate them after changing an IPC type, run (from the repository root):
//!
//! ```sh
//! HEARTH_WRITE_BINDINGS=1 cargo test -p hearth-desktop --test bindings
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use hearth_desktop::attachments::{AttachedFilesDto, PendingFileDto};
use hearth_desktop::commands::conversations::SearchFilterDto;
use hearth_desktop::commands::data::{EraseResultDto, InventoryDto, StoredFileDto};
use hearth_desktop::commands::projects::{ProjectChangeInput, ProjectModelInput};
use hearth_desktop::commands::providers::ProviderChange;
use hearth_desktop::commands::security::{PassphraseChangeDto, ProtectionDto, RotationProgressDto};
use hearth_desktop::commands::tools::{
    SecretPairInput, ToolDecisionDto, ToolServerInput, ToolTransportInput,
};
use hearth_desktop::commands::transfer::{
    ExportDoneDto, ExportFormatDto, ImportDoneDto, NotConvertedDto, PickedFileDto,
    TransferProgressDto,
};
use hearth_desktop::commands::vault::Protection;
use hearth_desktop::dto::{
    AttachmentDto, ChatEvent, ConversationDto, ConversationSummaryDto, ConversationViewDto,
    MessageDto, MessageErrorDto, MessageStatusDto, ModelDto, ModelSettingsDto, ProjectDto,
    ProjectFileDto, ProjectFilesAddedDto, ProjectSummaryDto, PromptDto, ProviderDto, ReasoningDto,
    ReplyStartedDto, RoleDto, SearchHitDto, SettingsDto, TemporaryStartedDto, TemporaryTurnDto,
    ToolCallDto, ToolCallStatusDto, ToolGrantDto, ToolInfoDto, ToolServerDto, VaultState,
    VaultStatusDto,
};
use hearth_desktop::error::{CommandError, ErrorKind};
use ts_rs::{Config, ExportError, TS};

/// Setting this to `1` writes the bindings instead of comparing them.
const WRITE_ENV: &str = "HEARTH_WRITE_BINDINGS";

/// The command that regenerates the bindings.
const REGENERATE: &str = "HEARTH_WRITE_BINDINGS=1 cargo test -p hearth-desktop --test bindings";

/// The file that re-exports every generated type.
const INDEX: &str = "index.ts";

type Export = fn(&Config) -> Result<(), ExportError>;

/// Every type serialized to or deserialized from the UI, with its name for messages. Their
/// dependencies are exported with them.
fn ipc_types() -> Vec<(&'static str, Export)> {
    macro_rules! types {
        ($($ty:ty),* $(,)?) => {
            vec![$((stringify!($ty), <$ty as TS>::export_all as Export)),*]
        };
    }
    types![
        // Vault.
        VaultState,
        VaultStatusDto,
        Protection,
        SettingsDto,
        ProtectionDto,
        PassphraseChangeDto,
        RotationProgressDto,
        // Conversations and messages.
        ConversationSummaryDto,
        ConversationDto,
        ConversationViewDto,
        MessageDto,
        MessageErrorDto,
        MessageStatusDto,
        RoleDto,
        SearchHitDto,
        SearchFilterDto,
        // Projects, model settings and saved prompts.
        ProjectDto,
        ProjectSummaryDto,
        ProjectFileDto,
        ProjectFilesAddedDto,
        ProjectChangeInput,
        ProjectModelInput,
        ModelSettingsDto,
        ReasoningDto,
        PromptDto,
        // Chat.
        ReplyStartedDto,
        ChatEvent,
        TemporaryStartedDto,
        TemporaryTurnDto,
        // Attachments.
        AttachmentDto,
        PendingFileDto,
        AttachedFilesDto,
        // Your data.
        InventoryDto,
        StoredFileDto,
        EraseResultDto,
        ExportFormatDto,
        ExportDoneDto,
        PickedFileDto,
        ImportDoneDto,
        NotConvertedDto,
        TransferProgressDto,
        // Tools.
        ToolCallDto,
        ToolCallStatusDto,
        ToolServerDto,
        ToolInfoDto,
        ToolGrantDto,
        ToolServerInput,
        ToolTransportInput,
        SecretPairInput,
        ToolDecisionDto,
        // Providers.
        ProviderDto,
        ProviderChange,
        ModelDto,
        // Errors.
        CommandError,
        ErrorKind,
    ]
}

/// The checked-in bindings, found from this crate's manifest so that the working directory
/// does not matter.
fn bindings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("src-tauri has a parent directory")
        .join("ui/src/lib/bindings")
}

/// How the bindings are generated. Large integers (`i64` timestamps and counts) become
/// `number`: serde_json writes them as JSON numbers, and `JSON.parse` reads them as such.
fn config(out_dir: &Path) -> Config {
    Config::new().with_out_dir(out_dir).with_large_int("number")
}

/// The `.ts` files directly in `dir`, by name, with their contents.
fn read_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| entry.expect("the directory can be listed").path())
        .filter(|path| path.is_file())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            let contents = fs::read(&path).expect("the file can be read");
            Some((name, contents))
        })
        .collect()
}

/// `index.ts`, re-exporting every type in `files` (sorted, one line each).
fn index(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut out = String::from(
        "// Generated by src-tauri/tests/bindings.rs from the Rust IPC types. Do not edit.\n\n",
    );
    for name in files.keys().filter(|name| name.as_str() != INDEX) {
        let module = name.trim_end_matches(".ts");
        out.push_str(&format!(
            "export type {{ {module} }} from \"./{module}\";\n"
        ));
    }
    out.into_bytes()
}

/// Every binding file, `index.ts` included, as generated from the current Rust types.
fn generate() -> BTreeMap<String, Vec<u8>> {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let cfg = config(tmp.path());
    for (name, export) in ipc_types() {
        export(&cfg).unwrap_or_else(|e| panic!("exporting {name} failed: {e}"));
    }
    let mut files = read_files(tmp.path());
    assert!(
        files.keys().all(|name| name.ends_with(".ts")),
        "unexpected files: {:?}",
        files.keys()
    );
    let index = index(&files);
    files.insert(INDEX.to_owned(), index);
    files
}

/// Replaces the checked-in bindings with `generated`.
fn write(dir: &Path, generated: &BTreeMap<String, Vec<u8>>) {
    fs::create_dir_all(dir).expect("the bindings directory can be created");
    for name in read_files(dir).keys() {
        if !generated.contains_key(name) {
            fs::remove_file(dir.join(name)).expect("a stale binding can be removed");
        }
    }
    for (name, contents) in generated {
        fs::write(dir.join(name), contents).expect("a binding can be written");
    }
}

#[test]
fn typescript_bindings_are_up_to_date() {
    let dir = bindings_dir();
    let generated = generate();
    if std::env::var(WRITE_ENV).as_deref() == Ok("1") {
        write(&dir, &generated);
        return;
    }
    let checked_in = read_files(&dir);
    let mut problems = Vec::new();
    for (name, contents) in &generated {
        match checked_in.get(name) {
            None => problems.push(format!("missing: {name}")),
            Some(old) if old != contents => problems.push(format!("out of date: {name}")),
            Some(_) => {}
        }
    }
    for name in checked_in.keys() {
        if !generated.contains_key(name) {
            problems.push(format!("not generated from any IPC type: {name}"));
        }
    }
    assert!(
        problems.is_empty(),
        "the TypeScript bindings in {} do not match the Rust IPC types:\n  {}\n\
         Regenerate them by running, from the repository root:\n  {REGENERATE}\n\
         then check in the result.",
        dir.display(),
        problems.join("\n  "),
    );
}

/// Names of the types in `source` that derive `Serialize` or `Deserialize`: after such a
/// derive, the next `struct` or `enum` (attributes and doc comments may come between).
fn serde_types(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut pending = false;
    for line in source.lines().map(str::trim) {
        if line.starts_with("#[derive(") {
            pending = line.contains("Serialize") || line.contains("Deserialize");
            continue;
        }
        if !pending {
            continue;
        }
        let item = line.strip_prefix("pub(crate) ").unwrap_or(line);
        let item = item.strip_prefix("pub ").unwrap_or(item);
        let rest = item
            .strip_prefix("struct ")
            .or_else(|| item.strip_prefix("enum "));
        if let Some(rest) = rest {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
            pending = false;
        }
    }
    names
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("the source directory can be listed") {
        let path = entry.expect("the source directory can be listed").path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A new serde type in the shell crosses IPC (that is what serde is for here), so it must be
/// listed in [`ipc_types`] and get a binding.
#[test]
fn every_serde_type_in_the_shell_has_a_binding() {
    let mut sources = Vec::new();
    rust_sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut sources,
    );
    let generated = generate();
    let mut found = BTreeSet::new();
    for path in sources {
        let source = fs::read_to_string(&path).expect("the source can be read");
        for name in serde_types(&source) {
            assert!(
                generated.contains_key(&format!("{name}.ts")),
                "{name} (in {}) derives serde but has no TypeScript binding: derive `ts_rs::TS` \
                 on it and add it to `ipc_types` in src-tauri/tests/bindings.rs",
                path.display()
            );
            found.insert(name);
        }
    }
    // The scan must see the types it is meant to guard.
    for name in [
        "ChatEvent",
        "CommandError",
        "ProviderChange",
        "VaultStatusDto",
    ] {
        assert!(found.contains(name), "the scan missed {name}");
    }
}
