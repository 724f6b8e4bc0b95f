//! `patch check`: compile every translation unit the series touches for every
//! architecture Haiku supports on x86 ([`Arch::ALL`]: x86_64 and 32-bit x86),
//! first unpatched, then patched, in a temporary copy of the parts of the
//! tree the compile needs (`headers/`, `build/config_headers`,
//! `build/user_config_headers`, each translation unit's directory). The
//! user's tree is only read.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::state::{self, Plan};
use super::tree::{RealFs, Transaction, Tree};
use super::{CommonArgs, PatchError, Series};
use crate::haiku_cc::{self, Arch, Clang, CompileOptions, CompileResult, Profile};

/// Who is to blame for one (translation unit, architecture) result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Compiles unpatched and patched.
    Ok,
    /// Compiles unpatched, fails patched: the patch is wrong.
    PatchBroke,
    /// Fails unpatched and patched: the environment (headers, flags,
    /// compiler) cannot compile this file; says nothing about the patch.
    Environment,
    /// Fails unpatched, compiles patched.
    FixedByPatch,
    /// Compiles both ways, but the patched compile has warnings the
    /// unpatched one has not: Haiku builds the kernel and most of libroot
    /// with -Werror (`EnableWerror` in build/jam/ArchitectureRules), so the
    /// patch is at fault.
    NewWarnings,
}

/// One compile, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct CompileSummary {
    /// Whether an object file was produced.
    pub ok: bool,
    /// Error diagnostics (`file:line:col: error: ...`), paths relative to
    /// the tree.
    pub errors: Vec<String>,
    /// Number of warnings.
    pub warnings: usize,
    /// clang's stderr (paths relative to the tree).
    pub stderr: String,
    /// The command line used (in the temporary copy).
    pub command: String,
}

impl CompileSummary {
    fn from(r: &CompileResult, copy: &Path) -> Self {
        let strip = |s: &str| s.replace(&format!("{}/", copy.display()), "");
        CompileSummary {
            ok: r.ok,
            errors: r.errors().map(|d| strip(&d.to_string())).collect(),
            warnings: r.warning_count(),
            stderr: strip(&r.stderr),
            command: r.command.join(" "),
        }
    }
}

/// One translation unit's results for one architecture.
#[derive(Debug, Clone, Serialize)]
pub struct CheckFile {
    /// Tree-relative path.
    pub file: String,
    /// The compile profile used.
    pub profile: Profile,
    /// The architecture compiled for.
    pub arch: Arch,
    /// clang's target triple for it.
    pub target: String,
    /// Before our patches.
    pub unpatched: CompileSummary,
    /// With the whole series applied.
    pub patched: CompileSummary,
    /// Who is to blame.
    pub verdict: Verdict,
    /// Warnings of the patched compile that the unpatched one does not have
    /// (`file: message`, without line numbers, which the patch shifts).
    pub new_warnings: Vec<String>,
}

/// The whole `patch check` result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The tree checked (only read).
    pub tree: String,
    /// Its base.
    pub base: String,
    /// The patches compiled in, in order.
    pub patches: Vec<String>,
    /// The clang binary used.
    pub clang: String,
    /// The architectures every translation unit is compiled for, in the
    /// order of `files`.
    pub architectures: Vec<Arch>,
    /// Per translation unit and architecture (each unit's architectures
    /// together, in the order of `architectures`).
    pub files: Vec<CheckFile>,
    /// One line for humans.
    pub summary: String,
    /// 0: all patched compiles ok, on every architecture; 1: a failure (on
    /// any architecture) is the patch's fault; 2: a failure is the
    /// environment's.
    pub exit_code: u8,
}

fn is_tu(path: &str) -> bool {
    matches!(
        Path::new(path).extension().and_then(|e| e.to_str()),
        Some("c" | "cpp" | "cc" | "cxx")
    )
}

/// Copies a directory tree (files and directories; symbolic links are
/// followed; broken ones are skipped).
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let Ok(meta) = std::fs::metadata(&src) else {
            continue;
        };
        if meta.is_dir() {
            copy_dir(&src, &dst)?;
        } else if meta.is_file() {
            std::fs::copy(&src, &dst)
                .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

/// Runs the check: every touched translation unit for every architecture in
/// [`Arch::ALL`], unpatched then patched; each (unit, architecture) pair is
/// judged on its own. `progress` prints one line per compile to stderr.
pub fn check(
    tree: &Tree,
    series: &Series,
    clang: &Clang,
    progress: bool,
) -> Result<CheckReport, PatchError> {
    let files = state::files_of(series);
    let list: Vec<String> = files.iter().cloned().collect();
    if let Some(r) = super::txn::recover(tree, &list)? {
        if progress {
            eprintln!("{r}");
        }
    }
    let contents = tree.read_all(files.iter().map(String::as_str))?;
    let (st, base) = state::compute(series, tree, &contents)?;
    if let Plan::Refuse { reason } = &st.plan {
        return Err(PatchError::Refused(format!(
            "cannot check: the series does not apply: {reason}"
        )));
    }
    let patches: Vec<String> = base.patches.iter().map(|p| p.name.clone()).collect();
    let mut tus = BTreeSet::new();
    for p in &base.patches {
        for f in &p.patch.files {
            if is_tu(f.path()) && f.new_path.is_some() {
                tus.insert(f.path().to_string());
            }
        }
    }
    let mut profiles = Vec::new();
    for tu in &tus {
        let profile = series.profile_for(tu).ok_or_else(|| {
            PatchError::Refused(format!(
                "no compile profile for {tu}: add a [[compile]] prefix for it to {}",
                series.path.display()
            ))
        })?;
        profiles.push((tu.clone(), profile));
    }

    // The temporary copy: what the compiler reads, nothing else.
    let tmp = tempfile::Builder::new()
        .prefix("dead-threads-check")
        .tempdir()
        .context("creating a temporary directory")?;
    let copy = tmp.path().join("haiku");
    let mut dirs: BTreeSet<String> = [
        "headers",
        "build/config_headers",
        "build/user_config_headers",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for tu in &tus {
        if let Some(parent) = Path::new(tu).parent() {
            dirs.insert(parent.display().to_string());
        }
    }
    for d in &dirs {
        let src = tree.root.join(d);
        if src.is_dir() {
            copy_dir(&src, &copy.join(d))?;
        }
    }
    let copy_tree = Tree {
        root: copy.clone(),
        vcs: super::tree::Vcs::Plain,
    };
    // The series' files, as upstream shipped them (our applied patches
    // taken out), written into the copy.
    let pristine = state::unapply(base, st.applied, &contents).map_err(|e| anyhow::anyhow!(e))?;
    let copied = copy_tree.read_all(files.iter().map(String::as_str))?;
    let mut tx = Transaction::new(&copy_tree, &copied);
    for (rel, c) in &pristine {
        tx.set(rel, c.clone());
    }
    tx.commit(&RealFs).map_err(|e| anyhow::anyhow!(e.message))?;

    // One entry per (translation unit, architecture): each unit's
    // architectures together, in the order of Arch::ALL.
    let units: Vec<(&String, Profile, Arch)> = profiles
        .iter()
        .flat_map(|(tu, profile)| Arch::ALL.into_iter().map(move |arch| (tu, *profile, arch)))
        .collect();
    let run = |label: &str| -> Result<Vec<CompileResult>, PatchError> {
        let mut out = Vec::new();
        for &(tu, profile, arch) in &units {
            if progress {
                eprintln!("compiling {tu} ({label}, {profile} profile, {arch}) ...");
            }
            let r = haiku_cc::compile_with(
                clang,
                &copy,
                profile,
                &copy.join(tu),
                &CompileOptions {
                    arch,
                    ..CompileOptions::default()
                },
            )
            .map_err(|e| PatchError::Other(e.into()))?;
            out.push(r);
        }
        Ok(out)
    };
    let unpatched = run("unpatched")?;
    let mut patched_contents = pristine.clone();
    for p in &base.patches {
        state::apply_patch(p, &mut patched_contents, false)
            .map_err(|e| PatchError::Refused(format!("{}: {e} (in the temporary copy)", p.name)))?;
    }
    let mut tx = Transaction::new(&copy_tree, &pristine);
    for (rel, c) in &patched_contents {
        tx.set(rel, c.clone());
    }
    tx.commit(&RealFs).map_err(|e| anyhow::anyhow!(e.message))?;
    let patched = run("patched")?;

    let mut results = Vec::new();
    for (((tu, profile, arch), u), p) in units.iter().zip(&unpatched).zip(&patched) {
        let (verdict, new_warnings) = judge(u, p);
        let prefix = format!("{}/", copy.display());
        let new_warnings = new_warnings
            .into_iter()
            .map(|w| w.replace(&prefix, ""))
            .collect();
        results.push(CheckFile {
            file: tu.to_string(),
            profile: *profile,
            arch: *arch,
            target: arch.target().to_string(),
            unpatched: CompileSummary::from(u, &copy),
            patched: CompileSummary::from(p, &copy),
            verdict,
            new_warnings,
        });
    }
    let (summary, exit_code) = summarize(&results, &base.name, profiles.len());
    Ok(CheckReport {
        tree: tree.root.display().to_string(),
        base: base.name.clone(),
        patches,
        clang: clang.path.display().to_string(),
        architectures: Arch::ALL.to_vec(),
        files: results,
        summary,
        exit_code,
    })
}

/// The summary line and exit code for `results` (`units` translation units,
/// each compiled for every architecture in [`Arch::ALL`]). The results that
/// decide the outcome are named, with their architecture.
fn summarize(results: &[CheckFile], base: &str, units: usize) -> (String, u8) {
    let arches = Arch::ALL
        .iter()
        .map(Arch::to_string)
        .collect::<Vec<_>>()
        .join(" and ");
    let of = format!(
        "{} compile check(s) ({units} file(s) x {} architecture(s): {arches})",
        results.len(),
        Arch::ALL.len()
    );
    let names = |pick: &dyn Fn(Verdict) -> bool| -> String {
        results
            .iter()
            .filter(|f| pick(f.verdict))
            .map(|f| format!("{} ({})", f.file, f.arch))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let at_fault = |v: Verdict| matches!(v, Verdict::PatchBroke | Verdict::NewWarnings);
    let environment = |v: Verdict| v == Verdict::Environment;
    let broke = results.iter().filter(|f| at_fault(f.verdict)).count();
    let env = results.iter().filter(|f| environment(f.verdict)).count();
    if results.is_empty() {
        (
            format!("nothing to compile: the series for {base} touches no translation unit"),
            0,
        )
    } else if broke > 0 {
        (
            format!(
                "{broke} of {of} fail or warn only with the patch applied, so the patch \
                 is at fault: {}",
                names(&at_fault)
            ),
            1,
        )
    } else if env > 0 {
        (
            format!(
                "{env} of {of} fail with and without the patch, an environment problem \
                 (compiler, headers or flags), not the patch: {}",
                names(&environment)
            ),
            2,
        )
    } else {
        (format!("all {of} compile patched"), 0)
    }
}

/// The verdict for one file, and the warnings only the patched compile has.
fn judge(unpatched: &CompileResult, patched: &CompileResult) -> (Verdict, Vec<String>) {
    let warnings = |r: &CompileResult| -> Vec<String> {
        r.diagnostics
            .iter()
            .filter(|d| d.severity == haiku_cc::Severity::Warning)
            .map(|d| format!("{}: {}", d.file, d.message))
            .collect()
    };
    let mut before = warnings(unpatched);
    let mut new = Vec::new();
    for w in warnings(patched) {
        match before.iter().position(|b| *b == w) {
            Some(i) => {
                before.swap_remove(i);
            }
            None => new.push(w),
        }
    }
    let verdict = match (unpatched.ok, patched.ok) {
        (true, true) if !new.is_empty() => Verdict::NewWarnings,
        (true, true) => Verdict::Ok,
        (true, false) => Verdict::PatchBroke,
        (false, false) => Verdict::Environment,
        (false, true) => Verdict::FixedByPatch,
    };
    (verdict, new)
}

/// Runs `dead-threads patch check`.
pub fn run(c: &CommonArgs, series: &Series) -> anyhow::Result<ExitCode> {
    let tree = Tree::open(&c.haiku)?;
    // An interrupted apply or revert is finished first, as by every patch
    // command, even when the compile cannot run.
    let files: Vec<String> = state::files_of(series).into_iter().collect();
    if let Some(r) = super::txn::recover(&tree, &files)? {
        eprintln!("{r}");
    }
    let clang = match haiku_cc::find_clang() {
        Ok(cl) => cl,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    match check(&tree, series, &clang, !c.json) {
        Ok(r) => {
            if c.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{}", super::report::check_text(&r));
            }
            Ok(ExitCode::from(r.exit_code))
        }
        Err(e) => Ok(super::report_error(&e, c.json)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::haiku_cc::{Diagnostic, Severity};

    fn compile(ok: bool, diags: &[(u32, Severity, &str)]) -> CompileResult {
        CompileResult {
            source: "thread.cpp".into(),
            profile: Profile::Kernel,
            ok,
            object_size: if ok { 1 } else { 0 },
            diagnostics: diags
                .iter()
                .map(|&(line, severity, message)| Diagnostic {
                    file: "src/system/kernel/thread.cpp".into(),
                    line,
                    column: 1,
                    severity,
                    message: message.into(),
                })
                .collect(),
            stderr: String::new(),
            command: Vec::new(),
        }
    }

    #[test]
    fn a_warning_only_the_patch_brings_is_the_patchs_fault() {
        use Severity::Warning;
        let old = (1712, Warning, "comparison of array is always true");
        let unpatched = compile(true, &[old]);
        // The same warning moved by the patch is not new.
        let moved = compile(true, &[(1695, Warning, old.2)]);
        assert_eq!(judge(&unpatched, &moved), (Verdict::Ok, vec![]));
        let added = compile(
            true,
            &[
                (1695, Warning, old.2),
                (2130, Warning, "unused variable 'team'"),
            ],
        );
        assert_eq!(
            judge(&unpatched, &added),
            (
                Verdict::NewWarnings,
                vec!["src/system/kernel/thread.cpp: unused variable 'team'".to_string()]
            )
        );
        // A second copy of an existing warning counts as new, too.
        let twice = compile(true, &[old, (1800, Warning, old.2)]);
        assert_eq!(judge(&unpatched, &twice).0, Verdict::NewWarnings);
        let broken = compile(false, &[(2130, Severity::Error, "no member named 'x'")]);
        assert_eq!(judge(&unpatched, &broken).0, Verdict::PatchBroke);
        assert_eq!(judge(&broken, &broken).0, Verdict::Environment);
    }

    fn result(file: &str, arch: Arch, verdict: Verdict) -> CheckFile {
        let summary = CompileSummary {
            ok: true,
            errors: Vec::new(),
            warnings: 0,
            stderr: String::new(),
            command: String::new(),
        };
        CheckFile {
            file: file.into(),
            profile: Profile::Kernel,
            arch,
            target: arch.target().into(),
            unpatched: summary.clone(),
            patched: summary,
            verdict,
            new_warnings: Vec::new(),
        }
    }

    #[test]
    fn the_verdict_covers_every_architecture() {
        let t = "src/system/kernel/thread.cpp";
        let m = "src/system/kernel/team.cpp";
        let all_ok = [
            result(t, Arch::X86_64, Verdict::Ok),
            result(t, Arch::X86, Verdict::Ok),
            result(m, Arch::X86_64, Verdict::Ok),
            result(m, Arch::X86, Verdict::FixedByPatch),
        ];
        let (summary, code) = summarize(&all_ok, "b", 2);
        assert_eq!(code, 0);
        assert_eq!(
            summary,
            "all 4 compile check(s) (2 file(s) x 2 architecture(s): x86_64 and x86) \
             compile patched"
        );
        // A fault on x86 alone fails the check, and is named with its
        // architecture.
        let mut x86_broke = all_ok.clone();
        x86_broke[1].verdict = Verdict::PatchBroke;
        let (summary, code) = summarize(&x86_broke, "b", 2);
        assert_eq!(code, 1);
        assert!(summary.starts_with("1 of 4 compile check(s)"), "{summary}");
        assert!(
            summary.ends_with(": src/system/kernel/thread.cpp (x86)"),
            "{summary}"
        );
        // New warnings on x86 only are the patch's fault too.
        x86_broke[1].verdict = Verdict::NewWarnings;
        assert_eq!(summarize(&x86_broke, "b", 2).1, 1);
        // An environment failure on one architecture is exit 2 ...
        let mut env = all_ok.clone();
        env[3].verdict = Verdict::Environment;
        let (summary, code) = summarize(&env, "b", 2);
        assert_eq!(code, 2);
        assert!(
            summary.ends_with(": src/system/kernel/team.cpp (x86)"),
            "{summary}"
        );
        // ... unless the patch is at fault elsewhere.
        env[0].verdict = Verdict::PatchBroke;
        assert_eq!(summarize(&env, "b", 2).1, 1);
        assert_eq!(summarize(&[], "b", 0).1, 0);
    }
}
