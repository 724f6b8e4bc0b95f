//! Generated jam text and command lines, as insta snapshots. Inputs are
//! fixed synthetic paths (`/src/haiku`, `/src/dead-threads`), so the
//! snapshots show exactly what a user's files and commands look like.

mod common;

use common::jam_tree::MODULE_JAMFILE;
use dead_threads::cross;
use dead_threads::image;
use dead_threads::jam::build_dir::BuildDir;
use dead_threads::jam::fragment::{self, Layout};
use dead_threads::jam::user_config::{self, OurLine};
use dead_threads::qemu::{command_line, shell_line, Accel, QemuConfig};
use std::path::{Path, PathBuf};

fn layout() -> Layout {
    Layout {
        repo: "/src/dead-threads".into(),
        build: BuildDir {
            path: "/src/haiku/generated.x86_64".into(),
            packaging_archs: vec!["x86_64".into()],
            cc: Some(
                "/src/haiku/generated.x86_64/cross-tools-x86_64/bin/x86_64-unknown-haiku-gcc"
                    .into(),
            ),
        },
    }
}

#[test]
fn fragment() {
    let module = fragment::parse_module_jamfile(MODULE_JAMFILE).unwrap();
    insta::assert_snapshot!(fragment::fragment(&layout(), &module).unwrap());
}

#[test]
fn out_of_tree_module_jamfile() {
    let module = fragment::parse_module_jamfile(MODULE_JAMFILE).unwrap();
    insta::assert_snapshot!(fragment::out_of_tree_jamfile(
        &module,
        Path::new("/src/dead-threads/kernel-patch/module")
    )
    .unwrap());
}

#[test]
fn the_real_module_jamfile_can_be_rerooted() {
    // kernel-patch/module/Jamfile of this repository (helper d's module).
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let module = fragment::read_module_jamfile(repo).unwrap();
    assert_eq!(module.tokens.first().map(String::as_str), Some("src"));
    assert!(module.target.ends_with("dead_threads"), "{}", module.target);
}

#[test]
fn user_build_config_line() {
    let line = user_config::render(&OurLine {
        fragment: layout().fragment_path(),
        created_file: false,
    })
    .unwrap();
    insta::assert_snapshot!(line);
}

#[test]
fn stage_file_list() {
    let module = fragment::parse_module_jamfile(MODULE_JAMFILE).unwrap();
    let files: Vec<String> = fragment::stage_files(&layout(), &module)
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}{}",
                f.rel.display(),
                if f.executable { " (x)" } else { "" }
            )
        })
        .collect();
    insta::assert_snapshot!(files.join("\n"));
}

/// launch_daemon starts the job with no PATH: the script sets one before
/// it runs anything by name (`sleep`).
#[test]
fn run_tests_script_sets_path_before_running_commands() {
    let text = fragment::run_tests_script(dead_threads::ktap::SERIAL_PREFIX, 3720).unwrap();
    let export = text
        .find("\nexport PATH\n")
        .expect("run-tests.sh exports PATH");
    let set = text
        .find("\nPATH=/boot/system/non-packaged/bin:/bin:")
        .unwrap();
    let sleep = text.find("( sleep ").expect("run-tests.sh runs sleep");
    assert!(set < export && export < sleep, "{text}");
}

#[test]
fn run_tests_script() {
    insta::assert_snapshot!(
        fragment::run_tests_script(dead_threads::ktap::SERIAL_PREFIX, 3720).unwrap()
    );
}

#[test]
fn command_lines() {
    let l = layout();
    let haiku = PathBuf::from("/src/haiku");
    let mut lines = vec![
        "# image".to_string(),
        image::jam_command(&l.build, 8).shell_line(),
        "# sysroot".to_string(),
    ];
    lines.extend(
        cross::sysroot_steps(&l.build, 8)
            .iter()
            .map(|c| c.shell_line()),
    );
    lines.push("# cross build".into());
    let tests = ["conformance".to_string(), "haiku_device".to_string()];
    lines.push(cross::test_build_command(&l.repo, &haiku, &l.build, &tests).shell_line());
    lines.push(cross::runner_build_command(&l.repo, &haiku, &l.build).shell_line());
    lines.push("# qemu (TCG)".into());
    let cfg = QemuConfig::new(l.image_path(), "/tmp/out".into());
    lines.push(shell_line(&command_line(&cfg.spec(Accel::Tcg))));
    // Host-dependent parts (the host package tool's OS/arch directory).
    let text = lines
        .join("\n")
        .replace(
            &format!("objects/{}/{}/", cross::host_platform(), cross::host_arch()),
            "objects/HOST/ARCH/",
        )
        .replace(
            &format!("objects/{}/lib", cross::host_platform()),
            "objects/HOST/lib",
        );
    insta::assert_snapshot!(text);
}
