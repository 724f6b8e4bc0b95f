//! A synthetic Haiku checkout, build directory and dead-threads repository
//! for the jam tests: only what `jam install` and the build-directory check
//! look for. Nothing of Haiku's is in it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use dead_threads::jam::build_dir::BuildDir;
use dead_threads::jam::fragment::Layout;
use dead_threads::jam::user_config::Change;
use dead_threads::jam::{apply_install, apply_uninstall, plan_install, plan_uninstall};

/// A module Jamfile of the shape `kernel-patch/module/Jamfile` has.
pub const MODULE_JAMFILE: &str = "SubDir HAIKU_TOP src add-ons kernel drivers misc dead_threads ;\n\nUsePrivateKernelHeaders ;\n\nKernelAddon <driver>dead_threads :\n\tdead_threads.cpp\n\t;\n";

/// Makes `haiku` look like a Haiku checkout: a `Jamrules` and `build/jam/`.
pub fn write_checkout(haiku: &Path) {
    std::fs::create_dir_all(haiku.join("build/jam")).unwrap();
    std::fs::write(haiku.join("Jamrules"), "# synthetic\n").unwrap();
}

/// Makes `build` a configured build directory (a one-line
/// `build/BuildConfig`).
pub fn write_build_dir(build: &Path) {
    std::fs::create_dir_all(build.join("build")).unwrap();
    std::fs::write(
        build.join("build/BuildConfig"),
        "HAIKU_PACKAGING_ARCHS ?= x86_64 ;\n",
    )
    .unwrap();
}

/// In a temporary directory: `haiku/` (a checkout) with its one build
/// directory `haiku/generated.x86_64/`, and `dead-threads/` (a repository
/// with [`MODULE_JAMFILE`]).
pub struct JamTree {
    dir: tempfile::TempDir,
    /// The checkout.
    pub haiku: PathBuf,
    /// Its configured build directory.
    pub build: PathBuf,
    /// The dead-threads repository.
    pub repo: PathBuf,
}

impl JamTree {
    /// Writes the tree.
    pub fn new() -> JamTree {
        let dir = tempfile::tempdir().unwrap();
        let haiku = dir.path().join("haiku");
        let build = haiku.join("generated.x86_64");
        let repo = dir.path().join("dead-threads");
        write_checkout(&haiku);
        write_build_dir(&build);
        std::fs::create_dir_all(repo.join("kernel-patch/module")).unwrap();
        std::fs::write(repo.join("kernel-patch/module/Jamfile"), MODULE_JAMFILE).unwrap();
        JamTree {
            dir,
            haiku,
            build,
            repo,
        }
    }

    /// The temporary directory holding the tree, for more of the test's own.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The repository and the build directory [`JamTree::build`] (which
    /// `jam install` finds without `--build-dir` while it is the checkout's
    /// only configured one).
    pub fn layout(&self) -> Layout {
        Layout {
            repo: self.repo.clone(),
            build: BuildDir::open(&self.build).unwrap(),
        }
    }

    /// The build directory's `UserBuildConfig`, where `jam install` puts
    /// its line.
    pub fn ubc(&self) -> PathBuf {
        self.build.join("UserBuildConfig")
    }

    /// The checkout's `build/jam/UserBuildConfig`, where earlier versions
    /// put the line.
    pub fn old_ubc(&self) -> PathBuf {
        self.haiku.join("build/jam/UserBuildConfig")
    }

    /// The stage directory `jam install` writes.
    pub fn stage(&self) -> PathBuf {
        self.build.join("dead_threads")
    }

    /// `jam install` (plan, then apply); what it did to UserBuildConfig.
    pub fn install(&self) -> Change {
        let plan = plan_install(&self.haiku, &self.layout()).unwrap();
        apply_install(&plan).unwrap();
        plan.change
    }

    /// `jam uninstall` (plan, then apply); what it did to the build
    /// directory's UserBuildConfig.
    pub fn uninstall(&self) -> Change {
        let plan = plan_uninstall(&self.haiku, Some(&self.layout().build)).unwrap();
        apply_uninstall(&plan).unwrap();
        plan.change()
    }
}

/// Writes an executable shell script `path` (a fake tool) running `body`.
pub fn write_script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
