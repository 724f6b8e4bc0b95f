//! Writing files so that a reader (or a killed run) never sees half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// File operations that replace whole files; tests substitute an
/// implementation that fails on purpose.
pub trait FileOps {
    /// Replaces (or creates) `path` with `data`, atomically.
    fn write(&self, path: &Path, data: &[u8]) -> std::io::Result<()>;
    /// Removes `path`.
    fn remove(&self, path: &Path) -> std::io::Result<()>;
}

/// Real file operations: write to a temporary file in the same directory
/// (named by [`temp_path_for`], so that a recovery can find and remove it),
/// copy the permissions of the file it replaces, fsync, rename over it,
/// fsync the directory.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

/// Prefix of every temporary file [`RealFs`] makes in a tree.
pub const TEMP_PREFIX: &str = ".dead-threads-";
/// Suffix of every temporary file [`RealFs`] makes in a tree.
pub const TEMP_SUFFIX: &str = ".tmp";

/// The temporary file [`RealFs::write`] uses to replace `path`:
/// `.dead-threads-<name>.tmp` in the same directory.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!("{TEMP_PREFIX}{name}{TEMP_SUFFIX}"))
}

/// Whether a file name is one of [`RealFs`]'s temporary files.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

impl FileOps for RealFs {
    fn write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        let dir = parent_dir(path);
        std::fs::create_dir_all(dir)?;
        let tmp = temp_path_for(path);
        let r = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(data)?;
            if let Ok(meta) = std::fs::metadata(path) {
                f.set_permissions(meta.permissions())?;
            }
            f.sync_all()?;
            super::fault::after_write();
            std::fs::rename(&tmp, path)
        })();
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r?;
        sync_dir(dir)?;
        super::fault::after_write();
        Ok(())
    }

    fn remove(&self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_file(path)?;
        sync_dir(parent_dir(path))?;
        super::fault::after_write();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub").join("f.json");
        RealFs.write(&p, b"one").unwrap();
        RealFs.write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f.json")]);
        RealFs.remove(&p).unwrap();
        assert!(!p.exists());
    }
}
