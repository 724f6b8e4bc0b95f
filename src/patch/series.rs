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
    patches: Vec<RawPatch>,
    #[serde(default)]
    detect: Vec<RawRule>,
}

/// A `patches` entry: `{ file = "...", sha256 = "..." }`, or a bare file
/// name (no hash recorded yet: refused until `patch series-hash --write`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawPatch {
    Bare(String),
    Table(RawPatchTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPatchTable {
    file: String,
    sha256: Option<String>,
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
    /// SHA-256 of the patch file's bytes, lowercase hex.
    pub sha256: String,
    /// The SHA-256 the manifest records for it (`None`: none recorded).
    pub recorded_sha256: Option<String>,
}

impl SeriesPatch {
    /// The commit subject, or the file name.
    pub fn title(&self) -> &str {
        self.patch.subject.as_deref().unwrap_or(&self.name)
    }

    /// Whether the file is what the manifest recorded.
    pub fn hash_matches(&self) -> bool {
        self.recorded_sha256.as_deref() == Some(self.sha256.as_str())
    }
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The command that records the current hashes, for messages.
pub fn rehash_command(series: &Path) -> String {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernel-patch/series.toml");
    if series == default {
        "dead-threads patch series-hash --write".to_string()
    } else {
        format!(
            "dead-threads patch series-hash --write --series {}",
            series.display()
        )
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
    /// Reads and checks the manifest and every patch it names, and refuses
    /// a series whose patch files do not have the SHA-256 it records
    /// ([`Series::verify`]).
    pub fn load(path: &Path) -> anyhow::Result<Series> {
        let s = Self::load_unverified(path)?;
        s.verify()?;
        Ok(s)
    }

    /// Like [`Series::load`], without comparing the patch files' hashes
    /// (for `patch series-hash`, which records them).
    pub fn load_unverified(path: &Path) -> anyhow::Result<Series> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "reading the patch series {} (pass --series PATH to the \
                 kernel-patch/series.toml of a dead-threads checkout)",
                path.display()
            )
        })?;
        Self::parse_unverified(&text, path)
    }

    /// Parses manifest text and verifies the patch files' hashes; patch
    /// paths are resolved against `path`'s directory.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Series> {
        let s = Self::parse_unverified(text, path)?;
        s.verify()?;
        Ok(s)
    }

    /// Refuses a series in which a patch file's SHA-256 is not the one the
    /// manifest records (or none is recorded), naming each such file, both
    /// hashes, and the command that records the new ones.
    pub fn verify(&self) -> anyhow::Result<()> {
        let mut bad = Vec::new();
        for p in self.bases.iter().flat_map(|b| &b.patches) {
            if p.hash_matches() {
                continue;
            }
            bad.push(match &p.recorded_sha256 {
                Some(rec) => format!(
                    "  {}: its SHA-256 is {}, but {} records {rec}",
                    p.path.display(),
                    p.sha256,
                    self.path.display()
                ),
                None => format!(
                    "  {}: no sha256 recorded in {} (its SHA-256 is {})",
                    p.path.display(),
                    self.path.display(),
                    p.sha256
                ),
            });
        }
        if bad.is_empty() {
            return Ok(());
        }
        bail!(
            "the patch series is not the one recorded: {} patch file(s) changed after their \
             hashes were recorded:\n{}\nNothing was read from or written to the Haiku tree. \
             If the patch files are wrong, restore them (e.g. git checkout -- kernel-patch/); \
             if they were changed on purpose, record their hashes with `{}`.",
            bad.len(),
            bad.join("\n"),
            rehash_command(&self.path)
        )
    }

    /// Parses manifest text without verifying the hashes.
    pub fn parse_unverified(text: &str, path: &Path) -> anyhow::Result<Series> {
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
            for entry in b.patches {
                let (name, recorded) = match entry {
                    RawPatch::Bare(name) => (name, None),
                    RawPatch::Table(t) => (t.file, t.sha256),
                };
                check_rel_path(&name).with_context(|| format!("{}", path.display()))?;
                if let Some(h) = &recorded {
                    if h.len() != 64 || !h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                        bail!(
                            "{}: sha256 of {name} is {h:?}, not 64 lowercase hex digits",
                            path.display()
                        );
                    }
                }
                let ppath = dir.join(&name);
                let bytes = std::fs::read(&ppath).with_context(|| {
                    format!(
                        "reading patch {} named by {}",
                        ppath.display(),
                        path.display()
                    )
                })?;
                let sha256 = sha256_hex(&bytes);
                let ptext = String::from_utf8(bytes)
                    .with_context(|| format!("patch {} is not UTF-8 text", ppath.display()))?;
                let patch = diff::parse(&ptext)
                    .with_context(|| format!("parsing patch {}", ppath.display()))?;
                patches.push(SeriesPatch {
                    name,
                    path: ppath,
                    patch,
                    sha256,
                    recorded_sha256: recorded,
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

/// One patch entry as `patch series-hash` found (and, with `--write`,
/// recorded) it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HashEntry {
    /// The base it belongs to.
    pub base: String,
    /// Path as written in the manifest.
    pub file: String,
    /// The hash the manifest recorded before (`None`: none).
    pub recorded: Option<String>,
    /// The file's SHA-256 now.
    pub actual: String,
}

impl HashEntry {
    /// Whether the recorded hash is the file's.
    pub fn matches(&self) -> bool {
        self.recorded.as_deref() == Some(self.actual.as_str())
    }
}

/// Every patch of the manifest at `path` with its recorded and actual
/// SHA-256. With `write`, rewrites the manifest so that each `patches`
/// entry is `{ file = "...", sha256 = "<actual>" }` (a bare file name
/// becomes such a table; order, comments and everything else are kept),
/// then reads it back and verifies it.
pub fn record_hashes(path: &Path, write: bool) -> anyhow::Result<Vec<HashEntry>> {
    use toml_edit::{Array, DocumentMut, InlineTable, Value};
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the patch series {}", path.display()))?;
    // The manifest must be valid apart from the hashes.
    let series = Series::parse_unverified(&text, path)?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    let mut entries = Vec::new();
    let bases = doc
        .get_mut("base")
        .and_then(|i| i.as_array_of_tables_mut())
        .with_context(|| format!("{}: no [[base]] defined", path.display()))?;
    for (t, base) in bases.iter_mut().zip(&series.bases) {
        let Some(arr) = t.get_mut("patches").and_then(|i| i.as_array_mut()) else {
            continue;
        };
        let mut new = Array::new();
        for (v, p) in arr.iter().zip(&base.patches) {
            entries.push(HashEntry {
                base: base.name.clone(),
                file: p.name.clone(),
                recorded: p.recorded_sha256.clone(),
                actual: p.sha256.clone(),
            });
            let mut it = InlineTable::new();
            it.insert("file", p.name.as_str().into());
            it.insert("sha256", p.sha256.as_str().into());
            let mut val = Value::InlineTable(it);
            val.decor_mut().set_suffix("");
            // Keep a comment written before the entry.
            let prefix = v
                .decor()
                .prefix()
                .and_then(|r| r.as_str())
                .filter(|s| s.contains('#'))
                .map(|s| s.trim_end_matches([' ', '\t']).to_string() + "    ")
                .unwrap_or_else(|| "\n    ".to_string());
            val.decor_mut().set_prefix(prefix);
            new.push_formatted(val);
        }
        if !new.is_empty() {
            new.set_trailing_comma(true);
            new.set_trailing("\n");
        }
        *arr = new;
    }
    if write && entries.iter().any(|e| !e.matches()) {
        let out = doc.to_string();
        // Read back before replacing the manifest: the result must load
        // with every hash matching.
        Series::parse(&out, path).with_context(|| {
            format!(
                "the rewritten {} does not verify; it was not written",
                path.display()
            )
        })?;
        super::tree::FileOps::write(&super::tree::RealFs, path, out.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(entries)
}
