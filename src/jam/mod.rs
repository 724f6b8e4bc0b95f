//! `dead-threads jam install|uninstall|status`: hooks the test image into a
//! Haiku build directory's jam build with one marked line in the build
//! directory's own `UserBuildConfig` (`$(HAIKU_OUTPUT_DIR)/UserBuildConfig`,
//! which Haiku's Jamrules includes after `build/jam/UserBuildConfig`) and
//! generated files in the build directory. The checkout's sources are left
//! alone, and other build directories of the same checkout do not see it.
//! Earlier versions put the line into `build/jam/UserBuildConfig`:
//! `install` and `uninstall` remove such a line.
//! See [`fragment`] for what the image gets and [`user_config`] for the
//! rules of the UserBuildConfig edit.

pub mod build_dir;
pub mod command;
pub mod fragment;
pub mod user_config;

use anyhow::{bail, Context, Result};
use build_dir::BuildDir;
use fragment::{Layout, StageFile};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use user_config::Change;

/// The prefix of every KTAP line the guest writes to the serial port (the
/// host parser's [`crate::ktap::SERIAL_PREFIX`]); written into the guest's
/// manifest and run-tests.sh.
pub const KTAP_PREFIX: &str = crate::ktap::SERIAL_PREFIX;

/// The dead-threads repository this binary was built from (default of
/// `--repo`).
pub const THIS_REPO: &str = env!("CARGO_MANIFEST_DIR");

/// `dead-threads jam ...`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The `jam` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add the test image to the checkout's jam build (idempotent).
    Install(Target),
    /// Remove exactly what `install` added.
    Uninstall(UninstallArgs),
    /// Show whether and where it is installed.
    Status(StatusArgs),
}

/// `jam uninstall`.
#[derive(Debug, Clone, clap::Args)]
pub struct UninstallArgs {
    /// The Haiku checkout (its top directory).
    #[arg(long, env = "HAIKU_TOP", value_name = "DIR")]
    pub haiku: PathBuf,
    /// The configured build directory [default: HAIKU_TOP/generated, or the
    /// only configured HAIKU_TOP/generated*]. Without one, only a line an
    /// earlier version put into build/jam/UserBuildConfig is removed.
    #[arg(long, value_name = "DIR")]
    pub build_dir: Option<PathBuf>,
    /// Print what would change without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// `jam status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// The Haiku checkout (its top directory).
    #[arg(long, env = "HAIKU_TOP", value_name = "DIR")]
    pub haiku: PathBuf,
    /// The configured build directory [default: as for install].
    #[arg(long, value_name = "DIR")]
    pub build_dir: Option<PathBuf>,
}

/// Which checkout and build directory.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The Haiku checkout (its top directory).
    #[arg(long, env = "HAIKU_TOP", value_name = "DIR")]
    pub haiku: PathBuf,
    /// The configured build directory [default: HAIKU_TOP/generated, or the
    /// only configured HAIKU_TOP/generated*].
    #[arg(long, value_name = "DIR")]
    pub build_dir: Option<PathBuf>,
    /// The dead-threads repository with kernel-patch/module.
    #[arg(long, value_name = "DIR", default_value = THIS_REPO)]
    pub repo: PathBuf,
    /// Print what would change without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// Checks that `dir` looks like a Haiku checkout.
pub fn check_checkout(dir: &Path) -> Result<()> {
    if !dir.join("Jamrules").is_file() || !dir.join("build/jam").is_dir() {
        bail!(
            "{} is not a Haiku checkout (no Jamrules and build/jam); {}",
            dir.display(),
            crate::sys::tree::top_hint(dir)
        );
    }
    Ok(())
}

/// The build directory's own `UserBuildConfig`, where `install` puts its
/// line: Haiku's Jamrules includes `$(HAIKU_OUTPUT_DIR)/UserBuildConfig`
/// (the build directory) after `build/jam/UserBuildConfig`, in every tree
/// since 2018.
pub fn user_config_path(build: &BuildDir) -> PathBuf {
    build.path.join("UserBuildConfig")
}

/// `HAIKU_TOP/build/jam/UserBuildConfig`, where versions before the build
/// directory's file was used put the line; `install` and `uninstall`
/// remove a line of ours found there.
pub fn old_user_config_path(haiku_top: &Path) -> PathBuf {
    haiku_top.join("build/jam/UserBuildConfig")
}

/// Removing our line from one UserBuildConfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The file.
    pub user_config: PathBuf,
    /// Its new content (`None` with [`Change::Deleted`]: delete the file).
    pub new_content: Option<String>,
    /// [`Change::Removed`] or [`Change::Deleted`].
    pub change: Change,
    /// The line that is removed.
    pub line: user_config::OurLine,
}

/// The removal of our line from `path`, if it has one.
fn plan_removal(path: &Path) -> Result<Option<Removal>> {
    let existing = read_optional(path)?;
    let (new_content, change, line) = user_config::uninstall(existing.as_deref())
        .with_context(|| format!("{}", path.display()))?;
    Ok(line.map(|line| Removal {
        user_config: path.to_path_buf(),
        new_content,
        change,
        line,
    }))
}

fn apply_removal(r: &Removal) -> Result<()> {
    match r.change {
        Change::Deleted => std::fs::remove_file(&r.user_config)
            .with_context(|| format!("deleting {}", r.user_config.display())),
        _ => {
            let content = r.new_content.as_deref().unwrap_or_default();
            fragment::write_atomic(&write_target(&r.user_config)?, content.as_bytes(), false)
        }
    }
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
            anyhow::anyhow!(
                "refusing to edit {}: it is not UTF-8 text. Nothing was changed",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// What `install` will do.
#[derive(Debug, Clone)]
pub struct InstallPlan {
    /// UserBuildConfig.
    pub user_config: PathBuf,
    /// Its new content.
    pub new_content: Option<String>,
    /// The kind of edit.
    pub change: Change,
    /// The stage directory.
    pub stage: PathBuf,
    /// Files written into it.
    pub files: Vec<StageFile>,
    /// The include line.
    pub line: String,
    /// A line of ours in build/jam/UserBuildConfig (an earlier version's),
    /// removed by the install.
    pub old_line: Option<Removal>,
}

/// Plans `install` without touching anything.
pub fn plan_install(haiku_top: &Path, layout: &Layout) -> Result<InstallPlan> {
    check_checkout(haiku_top)?;
    let module = fragment::read_module_jamfile(&layout.repo)?;
    let files = fragment::stage_files(layout, &module)?;
    let stage = layout.stage();
    if stage.exists() && !stage.join(fragment::OWNER_MARKER).exists() {
        let empty = std::fs::read_dir(&stage)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            bail!(
                "{} exists and was not created by dead-threads (no {} in it); move it away first",
                stage.display(),
                fragment::OWNER_MARKER
            );
        }
    }
    let user_config = user_config_path(&layout.build);
    let existing = read_optional(&user_config)?;
    let old_line = plan_removal(&old_user_config_path(haiku_top))?;
    let fragment_path = layout.fragment_path();
    let (new_content, change) = user_config::install(existing.as_deref(), &fragment_path)
        .with_context(|| format!("{}", user_config.display()))?;
    // The line as it will stand in the file: an existing line keeps its
    // "which created this file" note.
    let created_file = match change {
        Change::Created => true,
        _ => user_config::installed(existing.as_deref())?.is_some_and(|l| l.created_file),
    };
    let line = user_config::render(&user_config::OurLine {
        fragment: fragment_path,
        created_file,
    })?;
    Ok(InstallPlan {
        user_config,
        new_content,
        change,
        stage,
        files,
        line,
        old_line,
    })
}

/// Where to write UserBuildConfig: through a symlink to the file it points
/// at (a user's UserBuildConfig kept elsewhere stays a symlink).
fn write_target(path: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path)
            .with_context(|| format!("{} is a dangling symlink", path.display())),
        _ => Ok(path.to_path_buf()),
    }
}

/// Carries out an install plan: stage files first, the UserBuildConfig line
/// last (so a failure never leaves a line pointing at nothing).
pub fn apply_install(plan: &InstallPlan) -> Result<()> {
    fragment::write_stage_files(&plan.stage, &plan.files)?;
    std::fs::create_dir_all(plan.stage.join("guest"))?;
    if plan.change != Change::Unchanged {
        let content = plan.new_content.as_deref().unwrap_or_default();
        fragment::write_atomic(&write_target(&plan.user_config)?, content.as_bytes(), false)?;
    }
    if let Some(old) = &plan.old_line {
        apply_removal(old)?;
    }
    Ok(())
}

/// What `uninstall` will do.
#[derive(Debug, Clone)]
pub struct UninstallPlan {
    /// The build directory's UserBuildConfig (`None`: no build directory
    /// was given or found).
    pub user_config: Option<PathBuf>,
    /// Removing our line from it, if it has one.
    pub removal: Option<Removal>,
    /// Removing the line an earlier version put into
    /// build/jam/UserBuildConfig, if it is there.
    pub old_line: Option<Removal>,
    /// The stage directories to delete (only those carrying our marker).
    pub remove_dirs: Vec<PathBuf>,
}

impl UninstallPlan {
    /// What happens to the build directory's UserBuildConfig.
    pub fn change(&self) -> Change {
        self.removal
            .as_ref()
            .map_or(Change::Unchanged, |r| r.change)
    }
}

/// Plans `uninstall` without touching anything: our line in `build`'s
/// UserBuildConfig (if a build directory is given) and in
/// build/jam/UserBuildConfig (an earlier version's).
pub fn plan_uninstall(haiku_top: &Path, build: Option<&BuildDir>) -> Result<UninstallPlan> {
    check_checkout(haiku_top)?;
    let user_config = build.map(user_config_path);
    let removal = match &user_config {
        Some(p) => plan_removal(p)?,
        None => None,
    };
    let old_line = plan_removal(&old_user_config_path(haiku_top))?;
    let mut remove_dirs: Vec<PathBuf> = Vec::new();
    for r in removal.iter().chain(old_line.iter()) {
        if let Some(d) = r.line.fragment.parent() {
            if d.join(fragment::OWNER_MARKER).is_file() && !remove_dirs.iter().any(|x| x == d) {
                remove_dirs.push(d.to_path_buf());
            }
        }
    }
    Ok(UninstallPlan {
        user_config,
        removal,
        old_line,
        remove_dirs,
    })
}

/// Carries out an uninstall plan: the lines first, then the directories.
pub fn apply_uninstall(plan: &UninstallPlan) -> Result<()> {
    for r in plan.removal.iter().chain(plan.old_line.iter()) {
        apply_removal(r)?;
    }
    for dir in &plan.remove_dirs {
        std::fs::remove_dir_all(dir).with_context(|| format!("deleting {}", dir.display()))?;
    }
    Ok(())
}

fn describe_removal(r: &Removal) -> String {
    match r.change {
        Change::Deleted => format!(
            "{}: the dead-threads line removed and the file, which install had created, deleted\n",
            r.user_config.display()
        ),
        _ => format!(
            "{}: the dead-threads line removed\n",
            r.user_config.display()
        ),
    }
}

/// A human description of an install plan (also the `--dry-run` output).
pub fn describe_install(plan: &InstallPlan) -> String {
    let mut s = String::new();
    let what = match plan.change {
        Change::Unchanged => "unchanged (the line is already there)",
        Change::Created => "created with one line",
        Change::Appended => "one line appended",
        Change::Replaced => "the dead-threads line replaced",
        Change::Removed | Change::Deleted => "?",
    };
    s.push_str(&format!(
        "{}: {what}\n    {}\n",
        plan.user_config.display(),
        plan.line
    ));
    s.push_str(&format!(
        "{}/ (generated; rewritten):\n",
        plan.stage.display()
    ));
    for f in &plan.files {
        s.push_str(&format!("    {}\n", f.rel.display()));
    }
    if let Some(old) = &plan.old_line {
        s.push_str("an earlier version's line: ");
        s.push_str(&describe_removal(old));
    }
    s
}

/// `jam install --dry-run`: the plan as far as it can be made, then every
/// prerequisite, `MISSING` ones with what to do. Never an error: a dry run
/// is how a user finds out what is missing (like `verify --dry-run`).
fn dry_run_install(t: &Target) -> String {
    let mut missing: Vec<(&str, String)> = Vec::new();
    let mut found: Vec<(&str, String)> = Vec::new();
    match check_checkout(&t.haiku) {
        Ok(()) => found.push(("Haiku checkout", t.haiku.display().to_string())),
        Err(e) => missing.push(("Haiku checkout", format!("{e:#}"))),
    }
    let build = match BuildDir::find(&t.haiku, t.build_dir.as_deref()) {
        Ok(b) => {
            found.push(("configured build directory", b.path.display().to_string()));
            b
        }
        Err(e) => {
            missing.push(("configured build directory", format!("{e:#}")));
            let path = t
                .build_dir
                .clone()
                .unwrap_or_else(|| build_dir::default_build_dir(&t.haiku));
            BuildDir {
                path: std::path::absolute(&path).unwrap_or(path),
                packaging_archs: vec![],
                cc: None,
            }
        }
    };
    let layout = Layout {
        repo: t.repo.clone(),
        build,
    };
    let mut s = String::from("dry run, nothing changed; ");
    match plan_install(&t.haiku, &layout) {
        Ok(plan) => {
            s.push_str("install would write:\n");
            s.push_str(&describe_install(&plan));
        }
        Err(e) => {
            s.push_str("install cannot be planned in full:\n");
            s.push_str(&format!("    {e:#}\n"));
            s.push_str(&format!(
                "it would add one include line to {} and write the stage directory {}\n",
                user_config_path(&layout.build).display(),
                layout.stage().display()
            ));
        }
    }
    s.push_str("prerequisites:\n");
    for (name, what) in &found {
        s.push_str(&format!("   ok       {name}: {what}\n"));
    }
    for (name, how) in &missing {
        s.push_str(&format!(
            "   MISSING  {name}: {}\n",
            how.replace('\n', "\n            ")
        ));
    }
    s
}

/// A human description of an uninstall plan.
pub fn describe_uninstall(plan: &UninstallPlan) -> String {
    let mut s = String::new();
    match (&plan.removal, &plan.user_config) {
        (Some(r), _) => s.push_str(&describe_removal(r)),
        (None, Some(p)) => s.push_str(&format!(
            "{}: no dead-threads line; nothing to remove\n",
            p.display()
        )),
        (None, None) => {
            s.push_str("no build directory: only build/jam/UserBuildConfig looked at\n")
        }
    }
    if let Some(old) = &plan.old_line {
        s.push_str(&describe_removal(old));
    }
    for d in &plan.remove_dirs {
        s.push_str(&format!("{}: deleted\n", d.display()));
    }
    s
}

/// Entry point of `dead-threads jam`.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Install(t) if t.dry_run => {
            print!("{}", dry_run_install(&t));
        }
        Command::Install(t) => {
            check_checkout(&t.haiku)?;
            let build = BuildDir::find(&t.haiku, t.build_dir.as_deref())?;
            let layout = Layout {
                repo: t.repo.clone(),
                build,
            };
            let plan = plan_install(&t.haiku, &layout)?;
            if t.dry_run {
                print!(
                    "dry run, nothing changed; install would write:\n{}",
                    describe_install(&plan)
                );
            } else {
                apply_install(&plan)?;
                print!("{}", describe_install(&plan));
                println!(
                    "next: `dead-threads verify --haiku {} --build-dir {}` cross-builds and stages \
                     the tests, then builds the image (by hand: cd {} && jam -q @{})",
                    std::path::absolute(&t.haiku)
                        .unwrap_or_else(|_| t.haiku.clone())
                        .display(),
                    layout.build.path.display(),
                    layout.build.path.display(),
                    fragment::PROFILE
                );
            }
        }
        Command::Uninstall(t) => {
            check_checkout(&t.haiku)?;
            // A build directory that is gone or unconfigured must not keep
            // an old line in build/jam/UserBuildConfig: then only that one.
            let build = match BuildDir::find(&t.haiku, t.build_dir.as_deref()) {
                Ok(b) => Some(b),
                Err(e) if t.build_dir.is_none() => {
                    eprintln!("note: {e:#}");
                    None
                }
                Err(e) => return Err(e),
            };
            let plan = plan_uninstall(&t.haiku, build.as_ref())?;
            if t.dry_run {
                print!(
                    "dry run, nothing changed; uninstall would do:\n{}",
                    describe_uninstall(&plan)
                );
            } else {
                apply_uninstall(&plan)?;
                print!("{}", describe_uninstall(&plan));
            }
        }
        Command::Status(t) => {
            check_checkout(&t.haiku)?;
            let old = old_user_config_path(&t.haiku);
            if let Some(l) = user_config::installed(read_optional(&old)?.as_deref())? {
                println!(
                    "{} has an earlier version's line (includes {}): `dead-threads jam uninstall` \
                     or `jam install` removes it",
                    old.display(),
                    l.fragment.display()
                );
            }
            let build = match BuildDir::find(&t.haiku, t.build_dir.as_deref()) {
                Ok(b) => b,
                Err(e) => {
                    let e = format!("{e:#}");
                    println!(
                        "not installed (no build directory to install into: {})",
                        e.lines().next().unwrap_or_default()
                    );
                    return Ok(ExitCode::SUCCESS);
                }
            };
            let path = user_config_path(&build);
            let existing = read_optional(&path)?;
            match user_config::installed(existing.as_deref())? {
                Some(l) => println!(
                    "installed: {} includes {}{}",
                    path.display(),
                    l.fragment.display(),
                    if l.fragment.is_file() {
                        ""
                    } else {
                        " (MISSING: run jam install again)"
                    }
                ),
                None => println!(
                    "not installed ({} has no dead-threads line)",
                    path.display()
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_shows_the_line_as_it_stands_in_the_file() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path();
        std::fs::create_dir_all(top.join("build/jam")).unwrap();
        std::fs::write(top.join("Jamrules"), "").unwrap();
        let layout = Layout {
            repo: PathBuf::from(THIS_REPO),
            build: BuildDir {
                path: top.join("generated"),
                packaging_archs: vec!["x86_64".into()],
                cc: None,
            },
        };
        let first = plan_install(top, &layout).unwrap();
        assert_eq!(first.change, Change::Created);
        apply_install(&first).unwrap();
        let written = std::fs::read_to_string(user_config_path(&layout.build)).unwrap();
        assert_eq!(written, format!("{}\n", first.line));
        let again = plan_install(top, &layout).unwrap();
        assert_eq!(again.change, Change::Unchanged);
        assert_eq!(again.line, first.line, "the dry run shows another line");
        apply_uninstall(&plan_uninstall(top, Some(&layout.build)).unwrap()).unwrap();
        assert!(!user_config_path(&layout.build).exists());
    }
}
