//! The files `dead-threads jam install` generates in the build directory
//! (`BUILD/dead_threads/`), and the jam fragment that puts them into the
//! image.
//!
//! ```text
//! BUILD/dead_threads/
//!   .dead-threads                 ownership marker (uninstall removes only a directory that has it)
//!   UserBuildConfig.jam           the fragment; BUILD/UserBuildConfig includes it
//!   jam/src/add-ons/kernel/drivers/misc/dead_threads/Jamfile
//!                                 the module's Jamfile, rooted at DEAD_THREADS_TOP
//!   launch/dead_threads           launch_daemon job
//!   settings/kernel               kernel settings (serial debug output)
//!   guest/                        copied to /boot/system/non-packaged/data/dead_threads:
//!     run-tests.sh, manifest.json, dead-threads-guest-runner, bin/*, **/snapshots/*.snap
//! ```
//!
//! Everything in the fragment is guarded by the build profile
//! [`PROFILE`]: other images built from the same tree are not changed.
//!
//! The module source stays in the dead-threads repository. Its Jamfile is
//! written for the Haiku tree (`SubDir HAIKU_TOP src add-ons kernel drivers
//! misc dead_threads ;`) so it can also be copied there; for the out-of-tree
//! build we generate a copy whose `SubDir` uses our own root variable
//! `DEAD_THREADS_TOP` with the same directory tokens (so objects land where
//! they would in-tree) and whose `SEARCH_SOURCE` starts with the repository's
//! module directory. Haiku's `DeferredSubInclude` includes it after the
//! source tree, as UserBuildConfig.ReadMe describes.

use crate::jam::build_dir::BuildDir;
use crate::jam::user_config::jam_safe_path;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The build profile of the test image (`jam -q @minimum-dead-threads`). Its
/// `minimum-` prefix selects Haiku's minimum image type (fewest packages).
pub const PROFILE: &str = "minimum-dead-threads";

/// File name of the test image, in the build directory.
pub const IMAGE_NAME: &str = "haiku-dead-threads.image";

/// Image size in MiB unless the user's UserBuildConfig sets one.
pub const IMAGE_SIZE_MB: u32 = 900;

/// Where the guest directory ends up in the image.
pub const GUEST_DIR_IN_IMAGE: &str = "/boot/system/non-packaged/data/dead_threads";

/// The stage directory's ownership marker.
pub const OWNER_MARKER: &str = ".dead-threads";

/// The fragment's file name in the stage directory.
pub const FRAGMENT_NAME: &str = "UserBuildConfig.jam";

/// The module directory inside the dead-threads repository.
pub const MODULE_DIR: &str = "kernel-patch/module";

/// Kernel settings file of the test image.
pub const KERNEL_SETTINGS: &str = include_str!("../../jam-integration/image/kernel");
/// launch_daemon job of the test image.
pub const LAUNCH_JOB: &str = include_str!("../../jam-integration/image/dead_threads.launch");
/// Guest entry point template (`@OUTER_WATCHDOG_SECS@`).
pub const RUN_TESTS_TEMPLATE: &str = include_str!("../../jam-integration/image/run-tests.sh");

/// The module's Jamfile, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleJamfile {
    /// Directory tokens after `SubDir HAIKU_TOP`.
    pub tokens: Vec<String>,
    /// The KernelAddon target, e.g. `<driver>dead_threads`.
    pub target: String,
    /// The Jamfile text.
    pub text: String,
}

fn is_plain_token(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+'))
}

/// Reads and checks the module Jamfile: exactly one `SubDir HAIKU_TOP ... ;`
/// line with plain tokens, and one `KernelAddon TARGET :`.
pub fn parse_module_jamfile(text: &str) -> Result<ModuleJamfile> {
    let mut subdir = None;
    let mut target = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first() {
            Some(&"SubDir") => {
                if subdir.is_some() {
                    bail!("the module Jamfile has more than one SubDir line");
                }
                if words.get(1) != Some(&"HAIKU_TOP") || words.last() != Some(&";") {
                    bail!("expected `SubDir HAIKU_TOP <dir tokens> ;` in the module Jamfile, found {line:?}");
                }
                let tokens: Vec<String> = words[2..words.len() - 1]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                if tokens.is_empty() || !tokens.iter().all(|t| is_plain_token(t)) {
                    bail!("the module Jamfile's SubDir tokens must be plain names: {line:?}");
                }
                subdir = Some(tokens);
            }
            Some(&"KernelAddon") => {
                let Some(t) = words.get(1) else {
                    bail!("`KernelAddon` without a target in the module Jamfile");
                };
                target = Some(t.to_string());
            }
            _ => {}
        }
    }
    Ok(ModuleJamfile {
        tokens: subdir.context("the module Jamfile has no `SubDir HAIKU_TOP ... ;` line")?,
        target: target.context("the module Jamfile has no `KernelAddon <target> :` rule")?,
        text: text.to_string(),
    })
}

/// Reads `REPO/kernel-patch/module/Jamfile`.
pub fn read_module_jamfile(repo: &Path) -> Result<ModuleJamfile> {
    let path = repo.join(MODULE_DIR).join("Jamfile");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading the test module's Jamfile {} (is --repo the dead-threads repository?)",
            path.display()
        )
    })?;
    parse_module_jamfile(&text).with_context(|| format!("in {}", path.display()))
}

/// The module Jamfile re-rooted at `DEAD_THREADS_TOP`, sources searched in
/// `module_dir` first.
pub fn out_of_tree_jamfile(module: &ModuleJamfile, module_dir: &Path) -> Result<String> {
    let dir = jam_safe_path(module_dir)?;
    let mut out = String::new();
    out.push_str("# GENERATED by `dead-threads jam install` from\n");
    out.push_str(&format!("# {dir}/Jamfile -- do not edit.\n"));
    out.push_str("# Same Jamfile, rooted at DEAD_THREADS_TOP instead of HAIKU_TOP, with the\n");
    out.push_str("# sources taken from the dead-threads repository.\n");
    for line in module.text.lines() {
        if line.split_whitespace().next() == Some("SubDir") {
            out.push_str(&format!(
                "SubDir DEAD_THREADS_TOP {} ;\n",
                module.tokens.join(" ")
            ));
            out.push_str(&format!("SEARCH_SOURCE = \"{dir}\" $(SEARCH_SOURCE) ;\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Inputs of the generation.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The dead-threads repository (module source).
    pub repo: PathBuf,
    /// The Haiku build directory.
    pub build: BuildDir,
}

impl Layout {
    /// `BUILD/dead_threads`.
    pub fn stage(&self) -> PathBuf {
        self.build.stage()
    }
    /// The fragment the UserBuildConfig line includes.
    pub fn fragment_path(&self) -> PathBuf {
        self.stage().join(FRAGMENT_NAME)
    }
    /// The directory copied into the image.
    pub fn guest_dir(&self) -> PathBuf {
        self.stage().join("guest")
    }
    /// The image jam builds.
    pub fn image_path(&self) -> PathBuf {
        self.build.path.join(IMAGE_NAME)
    }
    /// The root variable of the generated module Jamfile.
    pub fn jam_root(&self) -> PathBuf {
        self.stage().join("jam")
    }
}

/// The jam fragment.
pub fn fragment(layout: &Layout, module: &ModuleJamfile) -> Result<String> {
    let stage = layout.stage();
    let stage_s = jam_safe_path(&stage)?;
    let image = layout.image_path();
    let image_s = jam_safe_path(&image)?;
    let jam_root = layout.jam_root();
    let jam_root_s = jam_safe_path(&jam_root)?;
    let repo = layout.repo.join(MODULE_DIR);
    let repo_s = jam_safe_path(&repo)?;
    let tokens = module.tokens.join(" ");
    let target = &module.target;
    let misc = "misc";
    Ok(format!(
        r#"# dead-threads: what the test image adds to a Haiku image.
# GENERATED by `dead-threads jam install` -- do not edit; every install
# rewrites it. The build directory's UserBuildConfig includes it with one
# marked line; `dead-threads jam uninstall` removes that line and this
# directory.
#
# Only the build profile {PROFILE} is affected:
#   jam -q @{PROFILE}    (in the build directory)
# Other images built from this tree are unchanged.

DefineBuildProfile {PROFILE} : image : "{image_s}" ;

if $(HAIKU_BUILD_PROFILE) = {PROFILE} {{
	HAIKU_IMAGE_SIZE ?= {IMAGE_SIZE_MB} ;

	# The test module, built from {repo_s}
	# through a generated Jamfile rooted at DEAD_THREADS_TOP; installed in
	# system/non-packaged/add-ons/kernel/drivers/bin with its
	# dev/{misc} link, i.e. /dev/{misc}/dead_threads.
	DEAD_THREADS_TOP = "{jam_root_s}" ;
	DeferredSubInclude DEAD_THREADS_TOP {tokens} ;
	AddDriversToHaikuImage {misc} : {target} ;

	# Test binaries, their insta snapshots, manifest.json, the guest runner
	# and run-tests.sh, as {GUEST_DIR_IN_IMAGE}.
	CopyDirectoryToHaikuImage system non-packaged data
		: "{stage_s}/guest" : dead_threads ;

	# The boot job that runs them and powers the machine off.
	SEARCH on <dead-threads>dead_threads = "{stage_s}/launch" ;
	AddFilesToHaikuImage system non-packaged data launch
		: <dead-threads>dead_threads ;

	# Kernel settings with serial debug output: the image's
	# home/config/settings/kernel/drivers/kernel is bound to our file.
	LOCATE on <driver-settings>kernel = "{stage_s}/settings" ;
}}
"#
    ))
}

/// A file to write in the stage directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageFile {
    /// Path relative to the stage directory.
    pub rel: PathBuf,
    /// Content.
    pub contents: String,
    /// Executable?
    pub executable: bool,
}

/// Everything `jam install` writes into the stage directory (the guest's test
/// binaries and manifest come from the cross build).
pub fn stage_files(layout: &Layout, module: &ModuleJamfile) -> Result<Vec<StageFile>> {
    let module_jamfile_dir: PathBuf = std::iter::once("jam".to_string())
        .chain(module.tokens.iter().cloned())
        .collect();
    Ok(vec![
        StageFile {
            rel: OWNER_MARKER.into(),
            contents: "This directory is generated and owned by `dead-threads jam install`;\n\
                       `dead-threads jam uninstall` deletes it.\n"
                .into(),
            executable: false,
        },
        StageFile {
            rel: FRAGMENT_NAME.into(),
            contents: fragment(layout, module)?,
            executable: false,
        },
        StageFile {
            rel: module_jamfile_dir.join("Jamfile"),
            contents: out_of_tree_jamfile(module, &layout.repo.join(MODULE_DIR))?,
            executable: false,
        },
        StageFile {
            rel: PathBuf::from("launch").join("dead_threads"),
            contents: LAUNCH_JOB.into(),
            executable: false,
        },
        StageFile {
            rel: PathBuf::from("settings").join("kernel"),
            contents: KERNEL_SETTINGS.into(),
            executable: false,
        },
        StageFile {
            rel: PathBuf::from("guest").join("run-tests.sh"),
            contents: run_tests_script(crate::jam::KTAP_PREFIX, DEFAULT_WATCHDOG_SECS)?,
            executable: true,
        },
    ])
}

/// The guest runner's watchdog when nothing else is configured.
pub const DEFAULT_WATCHDOG_SECS: u64 = 3600;

/// `run-tests.sh` for a run whose runner watchdog is `watchdog_secs` and
/// whose KTAP lines start with `ktap_prefix`.
pub fn run_tests_script(ktap_prefix: &str, watchdog_secs: u64) -> Result<String> {
    if ktap_prefix
        .chars()
        .any(|c| matches!(c, '"' | '$' | '\\' | '`') || c.is_control())
    {
        bail!("KTAP prefix {ktap_prefix:?} cannot be written into a shell string");
    }
    Ok(RUN_TESTS_TEMPLATE
        .replace("@OUTER_WATCHDOG_SECS@", &(watchdog_secs + 60).to_string())
        .replace("@KTAP_PREFIX@", ktap_prefix))
}

/// Writes `files` under `stage` (creating directories), each atomically.
pub fn write_stage_files(stage: &Path, files: &[StageFile]) -> Result<()> {
    for f in files {
        let path = stage.join(&f.rel);
        write_atomic(&path, f.contents.as_bytes(), f.executable)?;
    }
    Ok(())
}

/// Writes a file through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, contents: &[u8], executable: bool) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().context("path without parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(m) => m.permissions().mode() & 0o7777,
            Err(_) if executable => 0o755,
            Err(_) => 0o644,
        };
        let mode = if executable { mode | 0o111 } else { mode };
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAMFILE: &str = "SubDir HAIKU_TOP src add-ons kernel drivers misc dead_threads ;\n\nUsePrivateKernelHeaders ;\n\nKernelAddon <driver>dead_threads :\n\tdead_threads.cpp\n\t;\n";

    #[test]
    fn parses_the_module_jamfile() {
        let m = parse_module_jamfile(JAMFILE).unwrap();
        assert_eq!(
            m.tokens.join(" "),
            "src add-ons kernel drivers misc dead_threads"
        );
        assert_eq!(m.target, "<driver>dead_threads");
    }

    #[test]
    fn rejects_jamfiles_it_cannot_reroot() {
        assert!(parse_module_jamfile("SubDir TOP x ;\nKernelAddon a : b ;\n").is_err());
        assert!(parse_module_jamfile("SubDir HAIKU_TOP $(X) ;\nKernelAddon a : b ;\n").is_err());
        assert!(parse_module_jamfile("SubDir HAIKU_TOP x ;\n").is_err());
    }

    #[test]
    fn reroots_the_jamfile() {
        let m = parse_module_jamfile(JAMFILE).unwrap();
        let out = out_of_tree_jamfile(&m, Path::new("/r/kernel-patch/module")).unwrap();
        assert!(out.contains(
            "\nSubDir DEAD_THREADS_TOP src add-ons kernel drivers misc dead_threads ;\n"
        ));
        assert!(out.contains("SEARCH_SOURCE = \"/r/kernel-patch/module\" $(SEARCH_SOURCE) ;"));
        assert!(!out.contains("HAIKU_TOP src"));
        assert!(out.contains("KernelAddon <driver>dead_threads :"));
    }

    #[test]
    fn outer_watchdog_is_later_than_the_runners() {
        let s = run_tests_script("P: ", 1800).unwrap();
        assert!(s.contains("sleep 1860 ;"));
        assert!(s.contains("echo \"P: $1\" > /dev/dprintf"));
        assert!(!s.contains('@'));
        assert!(run_tests_script("$(x)", 1).is_err());
    }
}
