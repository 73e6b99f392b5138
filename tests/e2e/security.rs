//! Keys and locks, in the app: the passphrase changed in Settings → Security, then Lock,
//! the old passphrase refused and the new one opening the vault. On the way, a second
//! launch of the app on the same data directory must hand over to the first and exit,
//! without opening the vault or a window of its own.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hearth_tests::TestDir;

use crate::driver::{app_binary, click, find, screenshot, type_into, Driver};
use crate::steps::create_passphrase_vault;

const OLD: &str = "security e2e first passphrase";
const NEW: &str = "security e2e second passphrase";

/// How long a second launch may take to hand over and exit.
const HANDOVER: Duration = Duration::from_secs(20);

/// Launches the app again, as a user would, and waits for it to exit.
fn launch_again(data_dir: &std::path::Path) -> std::process::ExitStatus {
    let mut second = Command::new(app_binary())
        .env("HEARTH_DATA_DIR", data_dir)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("launch the app a second time");
    let deadline = Instant::now() + HANDOVER;
    loop {
        if let Some(status) = second.try_wait().expect("wait for the second launch") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("a second launch kept running: it did not hand over to the first");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_passphrase_is_changed_in_the_app_and_only_the_new_one_unlocks() {
    let dir = TestDir::new();
    let driver = Driver::start(&dir.data);
    let app = driver.session().await;
    create_passphrase_vault(&app, OLD).await;

    // A second launch on this vault hands over to the running app and exits.
    let status = tokio::task::spawn_blocking({
        let data = dir.data.clone();
        move || launch_again(&data)
    })
    .await
    .expect("the second launch");
    assert!(status.success(), "the second launch failed: {status}");
    let deadline = Instant::now() + HANDOVER;
    while !String::from_utf8_lossy(&driver.output()).contains("Hearth was launched again") {
        assert!(
            Instant::now() < deadline,
            "the running app never heard of the second launch"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    find(&app, "new-chat").await;

    click(&app, "settings").await;
    click(&app, "settings-tab-security").await;
    let summary = find(&app, "protection-summary")
        .await
        .text()
        .await
        .expect("summary text");
    assert!(summary.contains("only with your passphrase"), "{summary}");
    click(&app, "protection-changePassphrase").await;
    type_into(&app, "current-passphrase", OLD).await;
    type_into(&app, "new-passphrase", NEW).await;
    type_into(&app, "confirm-passphrase", NEW).await;
    click(&app, "protection-submit").await;
    find(&app, "protection-done").await;
    screenshot(&app, "12-passphrase-changed").await;

    click(&app, "lock-now").await;
    find(&app, "unlock-submit").await;
    type_into(&app, "passphrase-input", OLD).await;
    click(&app, "unlock-submit").await;
    let refused = find(&app, "unlock-error")
        .await
        .text()
        .await
        .expect("error text");
    assert!(refused.contains("wrong passphrase"), "{refused}");
    type_into(&app, "passphrase-input", NEW).await;
    click(&app, "unlock-submit").await;
    find(&app, "new-chat").await;
    app.close().await.expect("close the app");
}
