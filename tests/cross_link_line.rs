//! The link lines of the Haiku cross build ask only for what the
//! cross-sysroot step supplies.
//!
//! `.ci/run` builds what `verify` cross-builds (`dead-threads cross-targets`)
//! with `.ci/record-link` as the linker: a stand-in for
//! `x86_64-unknown-haiku-gcc` that records its arguments in
//! `$DEAD_THREADS_LINK_LOG` and links nothing. This test then checks every
//! recorded line against the checkout named by `HAIKU_TOP`:
//!
//! * every library rustc asks for (`-lNAME`) is in the cross sysroot after
//!   verify's step 3: a system library of the image's `haiku_devel.hpkg`
//!   (`HaikuImageGetSystemLibs` of the minimum image, the development
//!   libraries and the static libraries of build/jam/packages/HaikuDevel), or
//!   `libgcc_s` (gcc_syslibs, linked by `cross::fix_sysroot_links`);
//! * every crt object on the line, and the crt objects Haiku's gcc adds
//!   itself (buildtools' gcc/config/haiku.h: `crti.o`, `start_dyn.o`,
//!   `init_term_dyn.o`, `crtn.o` from the sysroot; `crtbegin*.o`/`crtend*.o`
//!   come with gcc) unless the line says `-nostartfiles`, is a glue object
//!   haiku_devel.hpkg installs.
//!
//! When Rust's target spec or std asks for another library, this fails
//! before a user's link does. Ignored unless `DEAD_THREADS_LINK_LOG` and
//! `HAIKU_TOP` were set for the build.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

/// The crt objects Haiku's gcc links from the sysroot unless told
/// `-nostartfiles` (STARTFILE_SPEC and ENDFILE_SPEC of buildtools'
/// gcc/gcc/config/haiku.h; crtbegin/crtend are gcc's own).
const GCC_SYSROOT_CRT: [&str; 4] = ["crti.o", "start_dyn.o", "init_term_dyn.o", "crtn.o"];

/// The words of the body of `rule NAME { ... }` in `text`.
fn rule_words<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let Some(start) = text.find(&format!("rule {name}")) else {
        return Vec::new();
    };
    let body = &text[start..];
    let end = body.find("\n}").unwrap_or(body.len());
    body[..end].split_whitespace().collect()
}

/// A file name from a jam word: grist (`<...>`) and `@...` build-feature
/// suffixes removed.
fn file_name(word: &str) -> &str {
    let w = word.rsplit('>').next().unwrap_or(word);
    w.split('@').next().unwrap_or(w)
}

/// Library names (`root` for libroot.so) and glue objects that the cross
/// sysroot holds once verify's step 3 has run, read from the checkout.
fn supplied(top: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let read = |rel: &str| {
        std::fs::read_to_string(top.join(rel))
            .unwrap_or_else(|e| panic!("{}: {e}", top.join(rel).display()))
    };
    let minimum = read("build/jam/images/definitions/minimum");
    let devel = read("build/jam/packages/HaikuDevel");
    let mut libs = BTreeSet::new();
    let mut objects = BTreeSet::new();
    let words = rule_words(&minimum, "HaikuImageGetSystemLibs")
        .into_iter()
        .chain(devel.split_whitespace());
    for w in words {
        let f = file_name(w);
        if let Some(name) = f.strip_prefix("lib") {
            if let Some(n) = name.strip_suffix(".so").or_else(|| name.strip_suffix(".a")) {
                libs.insert(n.to_string());
            }
        } else if f.ends_with(".o") {
            objects.insert(f.to_string());
        }
    }
    // gcc_syslibs(_devel): develop/lib/libgcc_s.so (cross::fix_sysroot_links).
    libs.insert("gcc_s".to_string());
    (libs, objects)
}

/// One recorded link line.
struct Record {
    file: String,
    args: Vec<String>,
}

fn records(dir: &Path) -> Vec<Record> {
    let mut out: Vec<Record> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("DEAD_THREADS_LINK_LOG={}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "args"))
        .map(|p| Record {
            file: p.display().to_string(),
            args: std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .map(String::from)
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// The libraries a link line asks for (`-lNAME`, `-l NAME`,
/// `-l:libNAME.so`).
fn libraries(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let name = match a.strip_prefix("-l") {
            Some("") => it.next().cloned().unwrap_or_default(),
            Some(n) => n.to_string(),
            None => continue,
        };
        let name = match name.strip_prefix(':') {
            Some(file) => file
                .trim_start_matches("lib")
                .split(".so")
                .next()
                .unwrap_or(file)
                .trim_end_matches(".a")
                .to_string(),
            None => name,
        };
        out.push(name);
    }
    out
}

/// crt-like objects on the line: `.o` files that are not rustc's own
/// (`*.rcgu.o`, `symbols.o`).
fn crt_objects(args: &[String]) -> Vec<String> {
    args.iter()
        .filter(|a| a.ends_with(".o") && !a.starts_with('-'))
        .map(|a| {
            Path::new(a)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .filter(|f| !f.ends_with(".rcgu.o") && f != "symbols.o")
        .collect()
}

#[test]
fn parses_link_lines_and_package_definitions() {
    let args: Vec<String> = [
        "-o",
        "/t/x",
        "/tmp/rustcX/a.b.rcgu.o",
        "/tmp/rustcX/symbols.o",
        "-lroot",
        "-l",
        "gnu",
        "-l:libbsd.so.1",
        "/s/crti.o",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(libraries(&args), ["root", "gnu", "bsd"]);
    assert_eq!(crt_objects(&args), ["crti.o"]);
    assert_eq!(file_name("<revisioned>libroot.so"), "libroot.so");
    assert_eq!(file_name("libdebugger.so@primary"), "libdebugger.so");
    let rule =
        "rule HaikuImageGetSystemLibs\n{\n\treturn libbe.so ;\n}\nrule Other\n{\n\tlibx.so\n}\n";
    assert_eq!(
        rule_words(rule, "HaikuImageGetSystemLibs"),
        [
            "rule",
            "HaikuImageGetSystemLibs",
            "{",
            "return",
            "libbe.so",
            ";"
        ]
    );
}

#[test]
#[cfg_attr(
    not(all(link_log, haiku_top)),
    ignore = "needs DEAD_THREADS_LINK_LOG (link lines recorded by .ci/record-link) and HAIKU_TOP"
)]
fn every_library_and_crt_object_is_in_the_cross_sysroot() {
    let top = common::checkout::haiku_top();
    let dir = std::env::var_os("DEAD_THREADS_LINK_LOG").expect("DEAD_THREADS_LINK_LOG");
    let (libs, objects) = supplied(&top);
    for needed in ["root", "network", "bsd", "gnu"] {
        assert!(
            libs.contains(needed),
            "lib{needed} not found in {}'s package definitions: read them again ({libs:?})",
            top.display()
        );
    }
    let records = records(Path::new(&dir));
    assert!(
        !records.is_empty(),
        "no link lines recorded in {}",
        Path::new(&dir).display()
    );
    let mut asked = BTreeSet::new();
    let mut problems = Vec::new();
    for r in &records {
        assert!(r.args.iter().any(|a| a == "-o"), "{}: no -o", r.file);
        for l in libraries(&r.args) {
            if !libs.contains(&l) {
                problems.push(format!("{}: -l{l} is not in the cross sysroot", r.file));
            }
            asked.insert(l);
        }
        let mut crt = crt_objects(&r.args);
        if !r.args.iter().any(|a| a == "-nostartfiles") {
            crt.extend(GCC_SYSROOT_CRT.iter().map(|s| s.to_string()));
        }
        for o in crt {
            if !objects.contains(&o) && !o.starts_with("crtbegin") && !o.starts_with("crtend") {
                problems.push(format!(
                    "{}: {o} is not a glue object of haiku_devel.hpkg",
                    r.file
                ));
            }
        }
    }
    eprintln!(
        "{} link lines; libraries asked for: {asked:?}; the sysroot has {} libraries and glue {objects:?}",
        records.len(),
        libs.len()
    );
    assert!(
        asked.contains("root"),
        "no line asks for libroot: the records are not Rust's Haiku link lines"
    );
    assert!(
        problems.is_empty(),
        "the cross build asks for what verify's sysroot step does not supply \
         (add the package to cross::sysroot_steps):\n{}",
        problems.join("\n")
    );
}
