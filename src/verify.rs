//! `dead-threads verify --haiku DIR [--dry-run]`: one command from a Haiku
//! checkout to a verdict, like Linux's `kunit.py run`:
//!
//! 1. patch apply (if needed) — [`crate::patch::apply`]
//! 2. jam install — [`crate::jam::plan_install`]
//! 3. Haiku libraries into the cross sysroot (if missing) — [`crate::cross::sysroot_steps`]
//! 4. cross-build the tests and the guest runner, stage them — [`crate::cross`]
//! 5. build the image with jam — [`crate::image::build_image`]
//! 6. boot it in QEMU and read the KTAP verdict — [`crate::qemu::run`]
//!
//! `--dry-run` prints every step's exact command and what it would change,
//! and changes nothing (it reads the checkout and asks the patch engine what
//! apply would do).

use crate::cross::{self, Prerequisite};
use crate::image;
use crate::jam::build_dir::{default_build_dir, BuildDir};
use crate::jam::fragment::{self, Layout};
use crate::jam::{self, THIS_REPO};
use crate::qemu::{self, ConsoleReporter, KvmMode, QemuConfig};
use crate::sys::process::CommandSpec;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Shown after `verify --help`.
const AFTER_HELP: &str = "\
Exit status: 2 when a step before the boot fails or a prerequisite is
missing (each says what to do); otherwise that of `dead-threads qemu` on the
image: 0 every test passed, 1 test failures, 3 kernel panic, 4 time limit,
5 guest ended early, 6 no power-off, 7 no test ran, 130 interrupted (see
`qemu --help`).
--dry-run exits 0 and lists missing prerequisites as MISSING.";

/// `dead-threads verify`
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The Haiku checkout (its top directory).
    #[arg(long, env = "HAIKU_TOP", value_name = "DIR")]
    pub haiku: PathBuf,
    /// The configured build directory [default: HAIKU_TOP/generated, or the
    /// only configured HAIKU_TOP/generated*].
    #[arg(long, value_name = "DIR")]
    pub build_dir: Option<PathBuf>,
    /// The dead-threads repository (module source, tests).
    #[arg(long, value_name = "DIR", default_value = THIS_REPO)]
    pub repo: PathBuf,
    /// Parallel jam jobs [default: number of CPUs].
    #[arg(long, short = 'j', value_parser = crate::image::positive_usize)]
    pub jobs: Option<usize>,
    /// Do not apply the kernel patch series (verify the tree as it is, e.g.
    /// to see the tests fail on an unpatched kernel).
    #[arg(long)]
    pub no_patch: bool,
    /// Time limit per test binary in the guest, seconds.
    #[arg(long, value_name = "S", default_value_t = cross::DEFAULT_TEST_TIMEOUT_SECS)]
    pub test_timeout: u64,
    /// QEMU: use KVM (auto, on, off).
    #[arg(long, value_enum, default_value_t = KvmMode::Auto)]
    pub kvm: KvmMode,
    /// QEMU: time limit for the whole boot-and-test run, seconds [default:
    /// the guest runner's watchdog plus 300 s for booting and power-off].
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// QEMU: guest memory in MiB.
    #[arg(long, value_name = "M", default_value_t = 2048,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub memory: u32,
    /// Directory for serial.log, results.ktap, results.json and the QEMU files.
    #[arg(long, value_name = "DIR", default_value = "dead-threads-verify")]
    pub out: PathBuf,
    /// Print every step's command and what it would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the QEMU outcome as JSON on stdout at the end (progress stays
    /// on stderr).
    #[arg(long)]
    pub json: bool,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Short title.
    pub title: String,
    /// Exact commands (shell lines) it runs.
    pub commands: Vec<String>,
    /// What it would change or produce, and notes.
    pub changes: Vec<String>,
}

/// The whole plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Prerequisites and their state.
    pub prerequisites: Vec<Prerequisite>,
    /// The build directory (possibly not configured yet).
    pub build: BuildDir,
    /// Whether the build directory is configured.
    pub build_configured: bool,
}

/// Time QEMU gets on top of the guest runner's watchdog: boot and power-off.
pub const BOOT_ALLOWANCE_SECS: u64 = 300;

fn qemu_config(args: &Args, image: PathBuf, watchdog_secs: u64) -> QemuConfig {
    let mut cfg = QemuConfig::new(image, args.out.clone());
    cfg.kvm = args.kvm;
    cfg.timeout = Duration::from_secs(args.timeout.unwrap_or(watchdog_secs + BOOT_ALLOWANCE_SECS));
    cfg.memory_mib = args.memory;
    cfg
}

fn this_exe() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "dead-threads".into())
}

/// Works out the plan; reads, never writes.
pub fn plan(args: &Args) -> Result<Plan> {
    jam::check_checkout(&args.haiku)?;
    let haiku = std::path::absolute(&args.haiku).unwrap_or_else(|_| args.haiku.clone());
    let repo = std::path::absolute(&args.repo).unwrap_or_else(|_| args.repo.clone());
    let jobs = args.jobs.unwrap_or_else(image::default_jobs);
    let found = BuildDir::find(&haiku, args.build_dir.as_deref());
    let (build, build_err) = match found {
        Ok(b) => (b, None),
        Err(e) => {
            let path = args
                .build_dir
                .clone()
                .unwrap_or_else(|| default_build_dir(&haiku));
            let path = std::path::absolute(&path).unwrap_or(path);
            (
                BuildDir {
                    path,
                    packaging_archs: vec![],
                    cc: None,
                },
                Some(format!("{e:#}")),
            )
        }
    };
    let prerequisites = cross::check_prerequisites(
        &haiku,
        match &build_err {
            None => Ok(&build),
            Some(e) => Err(e.clone()),
        },
    );
    let layout = Layout {
        repo: repo.clone(),
        build: build.clone(),
    };
    let mut steps = Vec::new();

    // 1. patch
    let mut step = Step {
        title: "patch apply (kernel patch series for the tree's base)".into(),
        commands: vec![format!(
            "{} patch apply --haiku {}",
            this_exe(),
            shlex::try_quote(&haiku.display().to_string())
                .map_or_else(|_| haiku.display().to_string(), |q| q.into_owned())
        )],
        changes: vec![],
    };
    if args.no_patch {
        step.commands.clear();
        step.changes
            .push("skipped (--no-patch): the tree is tested as it is".into());
    } else {
        match crate::patch::Tree::open(&haiku).and_then(|tree| {
            let series = crate::patch::Series::load(&crate::patch::Series::default_path())?;
            crate::patch::apply(&tree, &series, true, &crate::patch::RealFs)
                .map_err(anyhow::Error::from)
        }) {
            Ok(o) => {
                step.changes.push(o.message.clone());
                for f in &o.files {
                    step.changes
                        .push(format!("writes {}", haiku.join(f).display()));
                }
            }
            Err(e) => step
                .changes
                .push(format!("patch apply would refuse: {e:#}")),
        }
    }
    steps.push(step);

    // 2. jam install
    let mut step = Step {
        title: "jam install (UserBuildConfig line + generated files)".into(),
        commands: vec![],
        changes: vec![],
    };
    match jam::plan_install(&haiku, &layout) {
        Ok(p) => step
            .changes
            .extend(jam::describe_install(&p).lines().map(str::to_string)),
        Err(e) => step.changes.push(format!("jam install would fail: {e:#}")),
    }
    steps.push(step);

    // 3. sysroot
    let libroot = cross::sysroot_libroot(&build);
    let mut step = Step {
        title: "Haiku libraries into the cross sysroot".into(),
        commands: vec![],
        changes: vec![],
    };
    if cross::sysroot_ready(&build) {
        step.changes.push(format!(
            "nothing to do: {} and {} exist",
            libroot.display(),
            cross::sysroot_libgcc_s(&build).display()
        ));
    } else {
        step.commands = cross::sysroot_steps(&build, jobs)
            .iter()
            .map(CommandSpec::shell_line)
            .collect();
        step.changes.push(format!(
            "builds haiku.hpkg, haiku_devel.hpkg and the host package tool (under the \
             test image's build profile); extracts them into {}",
            build.sysroot().join("boot/system").display()
        ));
        step.changes.push(format!(
            "then extracts the gcc_syslibs and gcc_syslibs_devel packages jam downloaded \
             ({}/gcc_syslibs{{,_devel}}-*.hpkg: libgcc_s, which Rust's std links) the same way",
            cross::download_dir(&build).display()
        ));
        step.changes.push(
            "then makes absolute /system/... symlinks in develop/lib relative to the sysroot \
             (haiku_devel before July 2021) and links develop/lib/libgcc_s.so if missing"
                .into(),
        );
    }
    steps.push(step);

    // 4. cross build
    let guest_tests = cross::guest_test_targets(&repo);
    let test_cmd = cross::test_build_command(
        &repo,
        &haiku,
        &build,
        guest_tests.as_deref().unwrap_or_default(),
    );
    let runner_cmd = cross::runner_build_command(&repo, &haiku, &build);
    let mut notes = Vec::new();
    if let Err(e) = &guest_tests {
        notes.push(format!("cannot build: {e:#}"));
    }
    steps.push(Step {
        title: format!("cross-build the tests for {}", cross::TARGET),
        commands: vec![test_cmd.shell_line(), runner_cmd.shell_line()],
        changes: vec![
            format!(
                "stages into {}: bin/<test> for every test executable, {}, manifest.json, run-tests.sh, */snapshots/*.snap",
                layout.guest_dir().display(),
                cross::RUNNER_PACKAGE
            ),
            format!("per-binary timeout {} s", args.test_timeout),
        ]
        .into_iter()
        .chain(notes)
        .collect(),
    });

    // 5. image
    steps.push(Step {
        title: "build the image with jam".into(),
        commands: vec![image::jam_command(&build, jobs).shell_line()],
        changes: vec![format!(
            "writes {} (log {})",
            layout.image_path().display(),
            image::log_path(&build).display()
        )],
    });

    // 6. qemu
    // The real watchdog is known once the tests are built; plan with the
    // default one.
    let cfg = qemu_config(args, layout.image_path(), fragment::DEFAULT_WATCHDOG_SECS);
    let qemu_line = match qemu::planned_command(&cfg) {
        Ok(argv) => qemu::shell_line(&argv),
        Err(e) => format!("(cannot plan the QEMU command: {e})"),
    };
    steps.push(Step {
        title: "boot in QEMU, read KTAP from the serial port".into(),
        commands: vec![qemu_line],
        changes: vec![
            format!(
                "writes {}/{{serial.log,results.ktap,results.json,qemu-stderr.log,qemu-command.txt}}; \
                 the image is opened with snapshot=on (not modified)",
                args.out.display()
            ),
            match args.timeout {
                Some(t) => format!("time limit {t} s"),
                None => format!(
                    "time limit: the guest runner's watchdog (sum of the per-binary timeouts + 120 s) + {BOOT_ALLOWANCE_SECS} s"
                ),
            },
        ],
    });

    Ok(Plan {
        steps,
        prerequisites,
        build,
        build_configured: build_err.is_none(),
    })
}

/// The plan as text.
pub fn render(plan: &Plan) -> String {
    let mut s = String::new();
    for (i, step) in plan.steps.iter().enumerate() {
        s.push_str(&format!("{}. {}\n", i + 1, step.title));
        for c in &step.commands {
            s.push_str(&format!("   $ {c}\n"));
        }
        for c in &step.changes {
            s.push_str(&format!("   {c}\n"));
        }
    }
    s.push_str("prerequisites:\n");
    for p in &plan.prerequisites {
        match &p.found {
            Ok(what) => s.push_str(&format!("   ok       {}: {what}\n", p.name)),
            Err(how) => s.push_str(&format!(
                "   MISSING  {}: {}\n",
                p.name,
                how.replace('\n', "\n            ")
            )),
        }
    }
    s
}

fn run_step(cmd: &CommandSpec) -> Result<()> {
    eprintln!("$ {}", cmd.shell_line());
    let status = cmd
        .to_command()
        .status()
        .with_context(|| format!("starting {}", cmd.program))?;
    if !status.success() {
        bail!("failed ({status}): {}", cmd.shell_line());
    }
    Ok(())
}

/// Entry point of `dead-threads verify`.
pub fn run(args: Args) -> Result<ExitCode> {
    let plan = plan(&args)?;
    if args.dry_run {
        println!("dead-threads verify: plan (dry run; nothing is changed)");
        print!("{}", render(&plan));
        return Ok(ExitCode::SUCCESS);
    }
    let missing: Vec<String> = plan
        .prerequisites
        .iter()
        .filter_map(|p| {
            p.found
                .as_ref()
                .err()
                .map(|how| format!("  {}: {how}", p.name))
        })
        .collect();
    // The sysroot libraries are produced by step 3; everything else must be there.
    let missing: Vec<String> = missing
        .into_iter()
        .filter(|m| !m.contains("Haiku libraries in the cross sysroot"))
        .collect();
    if !missing.is_empty() {
        eprintln!("cannot verify yet; missing:\n{}", missing.join("\n"));
        return Ok(ExitCode::from(2));
    }
    let haiku = std::path::absolute(&args.haiku)?;
    let repo = std::path::absolute(&args.repo)?;
    let jobs = args.jobs.unwrap_or_else(image::default_jobs);
    let layout = Layout {
        repo: repo.clone(),
        build: plan.build.clone(),
    };

    eprintln!("== 1/6 patch apply");
    if args.no_patch {
        eprintln!("skipped (--no-patch)");
    } else {
        let tree = crate::patch::Tree::open(&haiku)?;
        let series = crate::patch::Series::load(&crate::patch::Series::default_path())?;
        let o = crate::patch::apply(&tree, &series, false, &crate::patch::RealFs)?;
        eprintln!("{}", o.message);
    }

    eprintln!("== 2/6 jam install");
    let install = jam::plan_install(&haiku, &layout)?;
    jam::apply_install(&install)?;
    eprint!("{}", jam::describe_install(&install));

    eprintln!("== 3/6 Haiku libraries in the cross sysroot");
    if cross::sysroot_ready(&layout.build) {
        eprintln!("present");
    } else {
        for c in cross::sysroot_steps(&layout.build, jobs) {
            run_step(&c)?;
        }
        for pkg in cross::gcc_syslibs_packages(&layout.build)? {
            run_step(&cross::extract_command(&layout.build, &pkg))?;
        }
        let system = layout.build.sysroot().join("boot/system");
        for change in cross::fix_sysroot_links(&system)? {
            eprintln!("relinked {change}");
        }
        for lib in [
            cross::sysroot_libroot(&layout.build),
            cross::sysroot_libgcc_s(&layout.build),
        ] {
            if !lib.is_file() {
                bail!(
                    "{} is still missing (or a dangling link) after extracting the packages \
                     into {}",
                    lib.display(),
                    system.display()
                );
            }
        }
    }

    eprintln!("== 4/6 cross-build");
    let guest_tests = cross::guest_test_targets(&repo)?;
    let test_cmd = cross::test_build_command(&repo, &haiku, &layout.build, &guest_tests);
    eprintln!("$ {}", test_cmd.shell_line());
    let tests: Vec<_> = cross::run_cargo(&test_cmd)?
        .into_iter()
        .filter(|a| a.test)
        .collect();
    let runner_cmd = cross::runner_build_command(&repo, &haiku, &layout.build);
    eprintln!("$ {}", runner_cmd.shell_line());
    let runner = cross::run_cargo(&runner_cmd)?
        .into_iter()
        .find(|a| a.name == cross::RUNNER_PACKAGE && !a.test)
        .context("cargo did not report the guest runner executable")?;
    let manifest = cross::stage_guest(&layout, &tests, &runner.executable, args.test_timeout)?;
    eprintln!(
        "staged {} test binaries in {}",
        manifest.tests.len(),
        layout.guest_dir().display()
    );

    eprintln!("== 5/6 image");
    let image_path = image::build_image(&layout, jobs)?;
    eprintln!("image: {}", image_path.display());

    eprintln!("== 6/6 qemu");
    let mut cfg = qemu_config(&args, image_path, manifest.watchdog_secs);
    cfg.interrupt = Some(qemu::install_interrupt_handler()?);
    let mut reporter = ConsoleReporter::new(false);
    let outcome = qemu::run(&cfg, &mut reporter)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome).expect("outcome serialises")
        );
        return Ok(ExitCode::from(outcome.verdict.exit_code() as u8));
    }
    print!("{}", qemu::summary(&outcome));
    Ok(ExitCode::from(outcome.verdict.exit_code() as u8))
}

/// The image path for a build directory (for callers that only want it).
pub fn image_path(build: &Path) -> PathBuf {
    build.join(fragment::IMAGE_NAME)
}
