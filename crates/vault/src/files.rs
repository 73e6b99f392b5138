//! File-system discipline: private permissions and atomic replacement.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{Result, VaultError};

/// Creates `dir` (and its parents) and makes it private to the user (0700 on Unix).
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)
        .map_err(|e| VaultError::io(format!("cannot create {}", dir.display()), e))?;
    set_mode(dir, 0o700)
}

/// Creates a new, empty file readable only by the user (0600 on Unix).
pub(crate) fn create_private_file(path: &Path) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| VaultError::io(format!("cannot create {}", path.display()), e))?;
    Ok(())
}

/// Replaces `path` with `bytes` atomically: write a private temp file beside it, fsync it,
/// rename it over the target, then fsync the directory so the rename itself is durable.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| VaultError::Invalid(format!("{} has no parent folder", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    // A temp file left by an earlier crash is stale: it was never renamed into place.
    let _ = fs::remove_file(&tmp);
    create_private_file(&tmp)?;
    let context = |what: &str| format!("cannot {what} {}", tmp.display());
    let mut file = OpenOptions::new()
        .write(true)
        .open(&tmp)
        .map_err(|e| VaultError::io(context("open"), e))?;
    file.write_all(bytes)
        .map_err(|e| VaultError::io(context("write"), e))?;
    file.sync_all()
        .map_err(|e| VaultError::io(context("sync"), e))?;
    drop(file);
    fs::rename(&tmp, path)
        .map_err(|e| VaultError::io(format!("cannot replace {}", path.display()), e))?;
    sync_dir(dir)
}

/// Flushes a directory's entries (renames, creations, removals) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| VaultError::io(format!("cannot sync {}", dir.display()), e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| {
            VaultError::io(format!("cannot set permissions on {}", path.display()), e)
        })?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_replaces_and_stays_private() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("data");
        ensure_private_dir(&sub).unwrap();
        assert_eq!(
            fs::metadata(&sub).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let file = sub.join("vault.json");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let names: Vec<_> = fs::read_dir(&sub)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temp file left behind: {names:?}");
    }
}
