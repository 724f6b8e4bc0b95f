//! Writing files so that a reader (or a killed run) never sees half of one.

use std::io::Write;
use std::path::Path;

/// File operations that replace whole files; tests substitute an
/// implementation that fails on purpose.
pub trait FileOps {
    /// Replaces (or creates) `path` with `data`, atomically.
    fn write(&self, path: &Path, data: &[u8]) -> std::io::Result<()>;
    /// Removes `path`.
    fn remove(&self, path: &Path) -> std::io::Result<()>;
}

/// Real file operations: write to a temporary file in the same directory,
/// copy the permissions of the file it replaces, fsync, rename over it.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

impl FileOps for RealFs {
    fn write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".dead-threads-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        tmp.write_all(data)?;
        if let Ok(meta) = std::fs::metadata(path) {
            tmp.as_file().set_permissions(meta.permissions())?;
        }
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    fn remove(&self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_file(path)
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
