//! The security-relevant configuration, checked so that a careless edit fails a test.

use serde_json::Value;

fn read_json(relative: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = std::fs::read_to_string(&path).expect("the file exists");
    serde_json::from_str(&text).expect("the file is JSON")
}

#[test]
fn identity_is_shared_with_the_cli_and_the_webview_is_locked_down() {
    let conf = read_json("tauri.conf.json");
    // The CLI's default data directory is `<data dir>/org.hearth.Hearth` too.
    assert_eq!(conf["identifier"], "org.hearth.Hearth");
    assert_eq!(conf["app"]["withGlobalTauri"], false);
    let csp = conf["app"]["security"]["csp"].as_str().expect("a CSP");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        // Attached images are shown from blob: URLs the UI makes of bytes Hearth hands over.
        "img-src 'self' blob:",
        "connect-src ipc: http://ipc.localhost",
        "object-src 'none'",
        "frame-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ] {
        assert!(
            csp.split(';').any(|d| d.trim() == directive),
            "missing `{directive}`"
        );
    }
    assert!(!csp.contains("https:") && !csp.contains('*'), "{csp}");
    // Nothing needs data: URLs; images come only from blob: URLs of Hearth's own bytes.
    assert!(!csp.contains("data:") && !csp.contains("file:"), "{csp}");
    assert!(conf["app"]["security"]
        .get("dangerousDisableAssetCspModification")
        .is_none());
}

#[test]
fn the_main_window_gets_only_the_apps_own_commands() {
    let cap = read_json("capabilities/default.json");
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    let build =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs"))
            .expect("build.rs");
    let permissions = cap["permissions"].as_array().expect("permissions");
    for permission in permissions {
        let permission = permission.as_str().expect("a plain permission id");
        let command = permission
            .strip_prefix("allow-")
            .unwrap_or_else(|| panic!("`{permission}` is not one of the app's own commands"))
            .replace('-', "_");
        assert!(
            build.contains(&format!("\"{command}\"")),
            "`{permission}` is not declared in build.rs"
        );
    }
    // And every declared command is granted: the lists match one to one.
    let declared = build
        .split_once("const COMMANDS")
        .and_then(|(_, rest)| rest.split_once("];"))
        .map(|(list, _)| list.matches("\",").count())
        .expect("build.rs declares COMMANDS");
    assert_eq!(permissions.len(), declared);
}
