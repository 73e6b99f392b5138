//! Generates the Tauri context and declares the app's own commands, so that each one gets
//! an `allow-…` permission and `capabilities/default.json` can grant them by name.

/// Every command in `src/commands/`, as registered in `lib.rs`.
const COMMANDS: &[&str] = &[
    "ui_ready",
    "vault_status",
    "vault_create",
    "vault_unlock",
    "vault_lock",
    "get_settings",
    "set_settings",
    "get_protection",
    "set_protection",
    "rotate_data_key",
    "list_conversations",
    "open_conversation",
    "search_conversations",
    "rename_conversation",
    "pin_conversation",
    "archive_conversation",
    "list_archived_conversations",
    "delete_conversation",
    "select_branch",
    "set_system_prompt",
    "set_conversation_model",
    "data_inventory",
    "erase_everything",
    "export_data",
    "pick_import_file",
    "import_picked",
    "pick_attachments",
    "paste_attachment",
    "watch_file_drops",
    "discard_attachments",
    "pending_image",
    "attachment_image",
    "save_attachment",
    "send_message",
    "regenerate_reply",
    "edit_message",
    "cancel_reply",
    "send_temporary",
    "list_providers",
    "set_provider",
    "set_api_key",
    "remove_api_key",
    "list_models",
    "open_external",
    "list_tool_servers",
    "add_tool_server",
    "remove_tool_server",
    "set_tool_server_enabled",
    "list_server_tools",
    "set_conversation_tool_servers",
    "list_tool_grants",
    "revoke_tool_grant",
    "decide_tool_call",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to prepare the Tauri build");
}
