//! `dead-threads image` against a fake jam (a shell script named by
//! DEAD_THREADS_JAM): the command it runs, the log, the lines shown on
//! failure, the image path on success. One test per binary, because it sets
//! an environment variable.

mod common;

use common::jam_tree::{write_script, JamTree};
use dead_threads::image::{build_image, log_path};

#[test]
fn image_runs_jam_logs_and_reports() {
    let t = JamTree::new();
    let build = &t.build;
    let layout = t.layout();
    let fake = t.path().join("fake-jam");
    std::env::set_var(dead_threads::jam::command::JAM_ENV, &fake);

    // Not installed: says what to do first, runs nothing.
    write_script(&fake, "touch ran; exit 0\n");
    let err = build_image(&layout, 3).unwrap_err().to_string();
    assert!(err.contains("jam install"), "{err}");
    assert!(!build.join("ran").exists());

    t.install();

    // A failing build: the lines that matter, with context, and the log.
    let mut body = String::from("echo \"$@\" > args\n");
    for i in 0..200 {
        body.push_str(&format!(
            "echo 'C++ objects/haiku/x86_64/release/x/file{i}.o'\n"
        ));
    }
    body.push_str("echo 'C++ objects/x/dead_threads.o'\n");
    body.push_str(
        "echo 'dead_threads.cpp:12:1: error: unknown type name thread_death_entry' >&2\n",
    );
    body.push_str("echo '...failed C++ objects/x/dead_threads.o ...'\n");
    body.push_str(
        "echo '...skipped haiku-dead-threads.image for lack of <driver>dead_threads...'\n",
    );
    body.push_str("exit 1\n");
    write_script(&fake, &body);
    let err = format!("{:#}", build_image(&layout, 3).unwrap_err());
    assert_eq!(
        std::fs::read_to_string(build.join("args")).unwrap().trim(),
        "-q -j3 @minimum-dead-threads"
    );
    assert!(err.contains("  C++ objects/x/dead_threads.o\n"), "{err}");
    assert!(
        err.contains("error: unknown type name thread_death_entry"),
        "{err}"
    );
    assert!(
        err.contains("...failed C++ objects/x/dead_threads.o"),
        "{err}"
    );
    assert!(err.contains("...skipped haiku-dead-threads.image"), "{err}");
    assert!(!err.contains("file17.o"), "unimportant lines shown:\n{err}");
    assert!(
        err.contains(&log_path(&layout.build).display().to_string()),
        "{err}"
    );
    let log = std::fs::read_to_string(log_path(&layout.build)).unwrap();
    assert!(log.starts_with("$ cd "), "{log}");
    assert!(log.contains("file199.o") && log.contains("thread_death_entry"));

    // A successful build returns the image.
    write_script(
        &fake,
        "echo 'BuildHaikuImage haiku-dead-threads.image'\ntouch haiku-dead-threads.image\n",
    );
    let image = build_image(&layout, 3).unwrap();
    assert_eq!(image, build.join("haiku-dead-threads.image"));

    // Success without the image is an error, not a silent pass.
    std::fs::remove_file(&image).unwrap();
    write_script(&fake, "exit 0\n");
    let err = build_image(&layout, 3).unwrap_err().to_string();
    assert!(err.contains("does not exist"), "{err}");
}
