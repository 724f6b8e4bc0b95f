//! The patch series manifest, `kernel-patch/series.toml` (its own comments
//! document the format).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use super::diff::{self, Patch};
use crate::haiku_cc::Profile;

/// The manifest format this tool reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    version: u32,
    #[serde(default)]
    base: Vec<RawBase>,
    #[serde(default)]
    compile: Vec<RawCompile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBase {
    name: String,
    description: String,
    #[serde(default)]
    patches: Vec<String>,
    #[serde(default)]
    detect: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    what: String,
    file: String,
    pattern: String,
    #[serde(default = "yes")]
    present: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompile {
    prefix: String,
    profile: String,
}

/// One detection rule of a base.
#[derive(Debug, Clone)]
pub struct Rule {
    /// What the rule looks for, in words.
    pub what: String,
    /// File relative to the Haiku tree's top.
    pub file: String,
    /// The pattern's source text.
    pub pattern: String,
    /// The compiled pattern, matched line by line.
    pub regex: regex::Regex,
    /// `true`: the pattern must occur; `false`: it must not.
    pub present: bool,
}

/// One of our patches, loaded and parsed.
#[derive(Debug, Clone)]
pub struct SeriesPatch {
    /// Path as written in the manifest (relative to its directory).
    pub name: String,
    /// Absolute path of the patch file.
    pub path: PathBuf,
    /// Its parsed content.
    pub patch: Patch,
}

impl SeriesPatch {
    /// The commit subject, or the file name.
    pub fn title(&self) -> &str {
        self.patch.subject.as_deref().unwrap_or(&self.name)
    }
}

/// A kind of Haiku tree and the patches for it.
#[derive(Debug, Clone)]
pub struct Base {
    /// Identifier (`legacy-limited`, ...).
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// Rules that all hold for a tree of this base (as upstream shipped it).
    pub detect: Vec<Rule>,
    /// Our patches, in order.
    pub patches: Vec<SeriesPatch>,
}

/// A path-prefix to compile-profile mapping for `patch check`.
#[derive(Debug, Clone)]
pub struct CompileRule {
    /// Path prefix relative to the tree top.
    pub prefix: String,
    /// The profile for sources under it.
    pub profile: Profile,
}

/// The whole manifest.
#[derive(Debug, Clone)]
pub struct Series {
    /// Where it was read from.
    pub path: PathBuf,
    /// The bases, in manifest order.
    pub bases: Vec<Base>,
    /// Compile profiles by path prefix.
    pub compile: Vec<CompileRule>,
}

impl Series {
    /// Reads and checks the manifest and every patch it names.
    pub fn load(path: &Path) -> anyhow::Result<Series> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "reading the patch series {} (pass --series PATH to the \
                 kernel-patch/series.toml of a dead-threads checkout)",
                path.display()
            )
        })?;
        Self::parse(&text, path)
    }

    /// Parses manifest text; patch paths are resolved against `path`'s
    /// directory.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Series> {
        let raw: RawSeries =
            toml::from_str(text).with_context(|| format!("parsing {}", path.display()))?;
        if raw.version != FORMAT_VERSION {
            bail!(
                "{}: version {} is not supported (this tool reads version {FORMAT_VERSION})",
                path.display(),
                raw.version
            );
        }
        if raw.base.is_empty() {
            bail!("{}: no [[base]] defined", path.display());
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut bases: Vec<Base> = Vec::new();
        for b in raw.base {
            if bases.iter().any(|o| o.name == b.name) {
                bail!("{}: base {:?} is defined twice", path.display(), b.name);
            }
            if b.detect.is_empty() || !b.detect.iter().any(|r| r.present) {
                bail!(
                    "{}: base {:?} needs at least one detect rule with present = true",
                    path.display(),
                    b.name
                );
            }
            let mut detect = Vec::new();
            for r in b.detect {
                let regex = regex::Regex::new(&r.pattern).with_context(|| {
                    format!(
                        "{}: base {:?}: bad pattern {:?}",
                        path.display(),
                        b.name,
                        r.pattern
                    )
                })?;
                check_rel_path(&r.file).with_context(|| format!("{}", path.display()))?;
                detect.push(Rule {
                    what: r.what,
                    file: r.file,
                    pattern: r.pattern,
                    regex,
                    present: r.present,
                });
            }
            let mut patches = Vec::new();
            for name in b.patches {
                check_rel_path(&name).with_context(|| format!("{}", path.display()))?;
                let ppath = dir.join(&name);
                let ptext = std::fs::read_to_string(&ppath).with_context(|| {
                    format!(
                        "reading patch {} named by {}",
                        ppath.display(),
                        path.display()
                    )
                })?;
                let patch = diff::parse(&ptext)
                    .with_context(|| format!("parsing patch {}", ppath.display()))?;
                patches.push(SeriesPatch {
                    name,
                    path: ppath,
                    patch,
                });
            }
            bases.push(Base {
                name: b.name,
                description: b.description,
                detect,
                patches,
            });
        }
        let mut compile = Vec::new();
        for c in raw.compile {
            let profile = match c.profile.as_str() {
                "kernel" => Profile::Kernel,
                "kernel-addon" => Profile::KernelAddon,
                "userland" => Profile::Userland,
                other => bail!(
                    "{}: unknown compile profile {other:?} (kernel, kernel-addon, userland)",
                    path.display()
                ),
            };
            compile.push(CompileRule {
                prefix: c.prefix,
                profile,
            });
        }
        Ok(Series {
            path: path.to_path_buf(),
            bases,
            compile,
        })
    }

    /// The compile profile for a tree-relative source path, if any rule
    /// covers it.
    pub fn profile_for(&self, rel: &str) -> Option<Profile> {
        self.compile
            .iter()
            .find(|c| rel.starts_with(&c.prefix))
            .map(|c| c.profile)
    }

    /// The default manifest location: `$DEAD_THREADS_SERIES`, else
    /// `kernel-patch/series.toml` of the source tree this tool was built
    /// from.
    pub fn default_path() -> PathBuf {
        if let Some(p) = std::env::var_os("DEAD_THREADS_SERIES") {
            return PathBuf::from(p);
        }
        Path::new(env!("CARGO_MANIFEST_DIR")).join("kernel-patch/series.toml")
    }
}

fn check_rel_path(p: &str) -> anyhow::Result<()> {
    if p.is_empty()
        || p.starts_with('/')
        || p.split('/').any(|c| c == ".." || c.is_empty() || c == ".")
    {
        bail!("path {p:?} must be relative, without `..`");
    }
    Ok(())
}
