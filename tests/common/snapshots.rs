//! Snapshot files that two test crates check: the Haiku test writes them
//! (`tests/snapshots/<name>.snap`), its host self-test compares models
//! against the same files.

use std::path::PathBuf;

use similar::{ChangeTag, TextDiff};

/// insta settings for snapshots named without the test crate's module
/// prefix, so that both crates find the same files.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s
}

/// Body of a committed snapshot file (after insta's `---` header).
pub fn committed_body(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.snap"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut parts = text.splitn(3, "---\n");
    let (_, _, body) = (parts.next(), parts.next(), parts.next());
    body.unwrap_or_else(|| panic!("{} has no insta header", path.display()))
        .to_owned()
}

/// Lines the actual output has instead of the snapshot's (the `+` side of
/// the diff insta would print), without line ends.
pub fn added_lines(expected: &str, actual: &str) -> Vec<String> {
    TextDiff::from_lines(expected, actual)
        .iter_all_changes()
        .filter(|c| c.tag() == ChangeTag::Insert)
        .map(|c| c.value().trim_end().to_owned())
        .collect()
}

/// The unified diff from the snapshot to `actual` (labelled `actual_label`),
/// for the test's output.
pub fn unified_diff(expected: &str, actual: &str, actual_label: &str) -> String {
    TextDiff::from_lines(expected, actual)
        .unified_diff()
        .header("snapshot", actual_label)
        .to_string()
}
