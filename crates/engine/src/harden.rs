//! What a front end does first: keep the data key out of crash dumps and out of reach of
//! other processes of the same user that would read its memory.
//!
//! On Linux: the core-dump size limit is set to zero (soft and hard), and the process is
//! made non-dumpable (`PR_SET_DUMPABLE` 0), which also means another process of the same
//! user cannot attach with ptrace or read `/proc/<pid>/mem` (root still can; so can the
//! user's processes that started this one under a debugger before it ran). Elsewhere it
//! does nothing yet. SECURITY.md says what this does and does not stop.

/// What [`harden_process`] managed to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hardened {
    /// Core dumps are off.
    pub no_core_dumps: bool,
    /// The process is not dumpable and not ptrace-able by the user's other processes.
    pub not_dumpable: bool,
}

/// Turns off core dumps and makes the process non-dumpable where the platform allows.
/// A step that fails is logged and left out: Hearth still runs.
pub fn harden_process() -> Hardened {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{
            set_dumpable_behavior, setrlimit, DumpableBehavior, Resource, Rlimit,
        };
        let mut done = Hardened::default();
        match setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        ) {
            Ok(()) => done.no_core_dumps = true,
            Err(e) => tracing::warn!("could not turn off core dumps: {e}"),
        }
        match set_dumpable_behavior(DumpableBehavior::NotDumpable) {
            Ok(()) => done.not_dumpable = true,
            Err(e) => tracing::warn!("could not make the process non-dumpable: {e}"),
        }
        done
    }
    #[cfg(not(target_os = "linux"))]
    {
        Hardened::default()
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_process_stops_being_dumpable_and_dumps_no_core() {
        // Run in a child so the test binary itself stays debuggable.
        if std::env::var_os("HEARTH_HARDEN_CHILD").is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "harden::tests::the_process_stops_being_dumpable_and_dumps_no_core",
                    "--nocapture",
                ])
                .env("HEARTH_HARDEN_CHILD", "1")
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            return;
        }
        let status = |field: &str| {
            std::fs::read_to_string("/proc/self/limits")
                .unwrap()
                .lines()
                .find(|l| l.starts_with(field))
                .map(str::to_owned)
                .unwrap()
        };
        let done = harden_process();
        assert_eq!(
            done,
            Hardened {
                no_core_dumps: true,
                not_dumpable: true
            }
        );
        let core = status("Max core file size");
        assert!(
            core.split_whitespace().filter(|w| *w == "0").count() >= 2,
            "{core}"
        );
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
