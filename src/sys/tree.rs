//! Finding the top of a Haiku checkout from a directory inside it, so that
//! `--haiku` pointing at `src/` (or any subdirectory) gets an error that
//! names the top to pass instead.

use std::path::{Path, PathBuf};

/// Whether `dir` is the top of a Haiku checkout: it has `Jamrules` and
/// `build/jam`, or (a headers-only copy) `headers/os/kernel/OS.h`.
pub fn is_haiku_top(dir: &Path) -> bool {
    (dir.join("Jamrules").is_file() && dir.join("build/jam").is_dir())
        || dir.join("headers/os/kernel/OS.h").is_file()
}

/// The nearest proper ancestor of `dir` that is a Haiku top, if `dir` lies
/// inside a checkout.
pub fn enclosing_haiku_top(dir: &Path) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(dir).ok()?;
    dir.ancestors()
        .skip(1)
        .find(|a| is_haiku_top(a))
        .map(Path::to_path_buf)
}

/// What to tell a user whose `--haiku` is not a top: where the top is when
/// `dir` lies inside a checkout, otherwise what to pass.
pub fn top_hint(dir: &Path) -> String {
    match enclosing_haiku_top(dir) {
        Some(top) => format!(
            "{} is inside the Haiku checkout whose top is {}: pass --haiku {}",
            dir.display(),
            top.display(),
            top.display()
        ),
        None => {
            "pass the top directory of a Haiku checkout with --haiku (or HAIKU_TOP)".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_top_from_inside() {
        let d = tempfile::tempdir().unwrap();
        let top = d.path().join("haiku");
        std::fs::create_dir_all(top.join("build/jam")).unwrap();
        std::fs::create_dir_all(top.join("src/system/kernel")).unwrap();
        std::fs::write(top.join("Jamrules"), "").unwrap();
        let top = std::fs::canonicalize(&top).unwrap();
        assert_eq!(
            enclosing_haiku_top(&top.join("src/system/kernel")),
            Some(top.clone())
        );
        assert_eq!(enclosing_haiku_top(&top), None);
        assert!(top_hint(&top.join("src")).contains(&format!("pass --haiku {}", top.display())));
        assert!(top_hint(d.path()).contains("pass the top directory"));
    }
}
