//! Telling a reply that is still streaming in another process from one a crash cut off.
//!
//! Every process with a reply in flight holds a shared advisory lock on the vault's
//! `streams.lock`. Opening the vault marks leftover `streaming` replies as `interrupted`
//! only if it can take that lock exclusively, that is, when no live process is streaming.
//! The operating system drops the locks of a process that dies, so a crash never blocks
//! recovery for long: the next open after the last streaming process is gone recovers.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Held while a reply streams; dropping it releases the shared lock.
#[derive(Debug)]
pub(crate) struct LiveStream {
    _file: File,
}

/// Takes a shared lock on `path`, creating the (empty, private) file if needed.
pub(crate) fn hold(path: &Path) -> io::Result<LiveStream> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    file.lock_shared()?;
    Ok(LiveStream { _file: file })
}

/// Whether no process holds `path`'s lock, i.e. every `streaming` reply is orphaned.
/// Errs on the side of "someone is streaming": a reply left `streaming` a little longer is
/// harmless, one wrongly marked `interrupted` while it is still arriving is not.
pub(crate) fn nobody_streaming(path: &Path) -> bool {
    let file = match File::open(path) {
        Ok(file) => file,
        // Never created: no process has ever streamed from this vault since it existed.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return true,
        Err(_) => return false,
    };
    match file.try_lock() {
        Ok(()) => true,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_means_someone_is_streaming() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("streams.lock");
        assert!(nobody_streaming(&path));
        let a = hold(&path).unwrap();
        let b = hold(&path).unwrap();
        assert!(!nobody_streaming(&path));
        drop(a);
        assert!(!nobody_streaming(&path));
        drop(b);
        assert!(nobody_streaming(&path));
    }
}
