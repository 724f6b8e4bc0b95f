//! T1: the bundled declarations agree with a real Haiku checkout's OS.h.
//!
//! Runs bindgen on `$HAIKU_TOP/headers/os/kernel/OS.h` (through
//! `#include <OS.h>`, for x86_64-unknown-haiku, with the same allowlist and
//! callbacks as the bundled header: codegen.rs) and compares the result with
//! the bundled bindings in src/bindings/thread_api.rs item by item: every
//! constant's type and value, every typedef, every function's parameter and
//! return types (parameter names are not compared: they are not part of the
//! ABI), the struct's fields, and bindgen's layout assertions (size,
//! alignment and every field offset of `thread_info`).
//!
//! Older Haiku revisions differ from the current API in a few documented
//! ways (`KNOWN_HISTORY`); such a difference is accepted only in exactly
//! the form recorded there, and reported.
//!
//! Skipped (with a message) when HAIKU_TOP is unset. Needs libclang.
//! Never modifies HAIKU_TOP: it only reads headers.
//!
//! ```sh
//! HAIKU_TOP=/path/to/haiku cargo test -p haiku-sys --test haiku_top_header -- --nocapture
//! ```

use std::collections::BTreeMap;
use std::fs;

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::ToTokens;

include!("../codegen.rs");

/// A difference between a historical Haiku revision and the current API
/// that the bundled declarations describe.
struct KnownHistory {
    /// Item key (see `item_key`).
    key: &'static str,
    /// The item as an older checkout produces it (normalized), or `None`
    /// if older checkouts do not declare it.
    old_form: Option<&'static str>,
    /// What changed, and when.
    why: &'static str,
    /// Accepted only if the checkout also lacks this item (for types that
    /// only a newer function pulls in).
    only_without: Option<&'static str>,
}

/// Typedefs that only `wait_for_thread_etc`'s `uint32 flags` pulls in.
const UINT32_CHAIN: [(&str, &str); 3] = [
    ("type uint32", "__haiku_uint32"),
    ("type __haiku_uint32", "__haiku_std_uint32"),
    ("type __haiku_std_uint32", ":: std :: os :: raw :: c_uint"),
];

const KNOWN_HISTORY: &[KnownHistory] = &[
    KnownHistory {
        key: "fn wait_for_thread_etc",
        old_form: None,
        why: "wait_for_thread_etc() became public API in OS.h with haiku 914b10c17e \
              (2022-03-11); older trees only have the kernel-private one",
        only_without: None,
    },
    KnownHistory {
        key: UINT32_CHAIN[0].0,
        old_form: None,
        why: "uint32 is only needed by wait_for_thread_etc (see there)",
        only_without: Some("fn wait_for_thread_etc"),
    },
    KnownHistory {
        key: UINT32_CHAIN[1].0,
        old_form: None,
        why: "uint32 is only needed by wait_for_thread_etc (see there)",
        only_without: Some("fn wait_for_thread_etc"),
    },
    KnownHistory {
        key: UINT32_CHAIN[2].0,
        old_form: None,
        why: "uint32 is only needed by wait_for_thread_etc (see there)",
        only_without: Some("fn wait_for_thread_etc"),
    },
    KnownHistory {
        key: "fn debug_printf",
        old_form: Some("fn debug_printf (* const :: std :: os :: raw :: c_char , ...)"),
        why: "debug_printf() returned void until haiku b939b5a9f4 (2025-12-01) made it \
              return the number of characters printed",
        only_without: None,
    },
];

/// Replaces identifiers according to `aliases` (bindgen's numbered names
/// of anonymous enums), recursively.
fn substitute(tokens: TokenStream, aliases: &BTreeMap<String, TokenStream>) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tt| -> Vec<TokenTree> {
            match tt {
                TokenTree::Ident(ref ident) => match aliases.get(&ident.to_string()) {
                    Some(target) => target.clone().into_iter().collect(),
                    None => vec![tt],
                },
                TokenTree::Group(g) => {
                    let mut new = Group::new(g.delimiter(), substitute(g.stream(), aliases));
                    new.set_span(g.span());
                    vec![TokenTree::Group(new)]
                }
                other => vec![other],
            }
        })
        .collect()
}

/// Normalized items of a bindgen output: key ("const B_OK", "fn spawn_thread",
/// "struct thread_info", "layout thread_info", ...) -> normalized text.
fn normalized_items(source: &str, what: &str) -> BTreeMap<String, String> {
    let file = syn::parse_file(source).unwrap_or_else(|e| panic!("{what}: not Rust: {e}"));
    // Anonymous enums get numbered type names (`_bindgen_ty_1`) whose numbers
    // depend on the header; compare through their underlying type instead.
    let mut aliases = BTreeMap::new();
    for item in &file.items {
        if let syn::Item::Type(t) = item {
            if t.ident.to_string().starts_with("_bindgen_ty_") {
                aliases.insert(t.ident.to_string(), t.ty.to_token_stream());
            }
        }
    }
    let norm = |tokens: TokenStream| substitute(tokens, &aliases).to_string();

    let mut items = BTreeMap::new();
    let mut insert = |key: String, value: String| {
        if let Some(old) = items.insert(key.clone(), value) {
            panic!("{what}: {key} declared twice (first: {old})");
        }
    };
    for item in file.items {
        match item {
            syn::Item::Const(c) if c.ident == "_" => {
                // bindgen's layout assertions: `["Size of thread_info"][...]`.
                let text = norm(c.expr.to_token_stream());
                let struct_name = text
                    .split("\"Size of ")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_else(|| panic!("{what}: unrecognised const _ block: {text}"))
                    .to_owned();
                insert(format!("layout {struct_name}"), text);
            }
            syn::Item::Const(c) => {
                let (ty, expr) = (&c.ty, &c.expr);
                insert(
                    format!("const {}", c.ident),
                    norm(quote::quote!(#ty = #expr)),
                );
            }
            syn::Item::Type(t) if t.ident.to_string().starts_with("_bindgen_ty_") => {}
            syn::Item::Type(t) => {
                insert(format!("type {}", t.ident), norm(t.ty.to_token_stream()));
            }
            syn::Item::Struct(s) => {
                insert(format!("struct {}", s.ident), norm(s.to_token_stream()));
            }
            syn::Item::Impl(i) => {
                let key = format!(
                    "impl {} for {}",
                    i.trait_
                        .as_ref()
                        .map(|(_, path, _)| path.to_token_stream().to_string())
                        .unwrap_or_default(),
                    i.self_ty.to_token_stream()
                );
                insert(key, norm(i.to_token_stream()));
            }
            syn::Item::ForeignMod(m) => {
                for f in m.items {
                    let syn::ForeignItem::Fn(f) = f else {
                        panic!("{what}: unexpected foreign item {}", f.to_token_stream());
                    };
                    let mut params: Vec<String> = f
                        .sig
                        .inputs
                        .iter()
                        .map(|arg| match arg {
                            syn::FnArg::Typed(p) => norm(p.ty.to_token_stream()),
                            syn::FnArg::Receiver(_) => unreachable!("C function"),
                        })
                        .collect();
                    if f.sig.variadic.is_some() {
                        params.push("...".to_owned());
                    }
                    let ret = match &f.sig.output {
                        syn::ReturnType::Default => String::new(),
                        syn::ReturnType::Type(_, ty) => {
                            format!(" -> {}", norm(ty.to_token_stream()))
                        }
                    };
                    insert(
                        format!("fn {}", f.sig.ident),
                        format!("fn {} ({}){ret}", f.sig.ident, params.join(" , ")),
                    );
                }
            }
            other => panic!("{what}: unexpected item kind: {}", other.to_token_stream()),
        }
    }
    items
}

#[test]
#[cfg_attr(
    not(all(haiku_top, has_libclang)),
    ignore = "needs HAIKU_TOP (a Haiku checkout) and libclang"
)]
fn bundled_declarations_match_the_checkout() {
    let top = std::env::var_os("HAIKU_TOP")
        .filter(|v| !v.is_empty())
        .expect("HAIKU_TOP is unset: set it to a haiku/haiku checkout");
    let top = PathBuf::from(top);
    let os_h = top.join("headers/os/kernel/OS.h");
    assert!(
        os_h.is_file(),
        "HAIKU_TOP={} is not a Haiku checkout: {} is missing",
        top.display(),
        os_h.display()
    );
    if let Err(why) = libclang_available() {
        panic!("HAIKU_TOP is set but bindgen cannot run: {why}");
    }

    let scratch = tempfile::tempdir().expect("create a temporary directory");
    let wrapper = scratch.path().join("wrapper.h");
    fs::write(&wrapper, "#include <OS.h>\n").unwrap();
    let args = checkout_clang_args(&top, DEFAULT_HAIKU_CLANG_TARGET);
    let real = thread_api_builder(&wrapper, &args, scratch.path())
        .generate()
        .unwrap_or_else(|e| panic!("bindgen on {}: {e}", os_h.display()))
        .to_string();
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bundled_path = manifest_dir.join(THREAD_API.bundled_bindings);
    let bundled = fs::read_to_string(&bundled_path).unwrap();

    let real = normalized_items(&real, "bindings of the checkout");
    let bundled = normalized_items(&bundled, "bundled bindings");

    let mut problems = Vec::new();
    let mut history = Vec::new();
    let keys: std::collections::BTreeSet<&String> = real.keys().chain(bundled.keys()).collect();
    for key in keys {
        let (r, b) = (real.get(key), bundled.get(key));
        if r == b {
            continue;
        }
        if let Some(known) = KNOWN_HISTORY.iter().find(|k| k.key == key) {
            let context_ok = !matches!(known.only_without, Some(k) if real.contains_key(k));
            if r.map(String::as_str) == known.old_form && b.is_some() && context_ok {
                history.push(format!("{key}: {}", known.why));
                continue;
            }
        }
        problems.push(match (r, b) {
            (Some(r), Some(b)) => format!("{key}:\n    checkout: {r}\n    bundled:  {b}"),
            (Some(r), None) => format!("{key}: only in the checkout: {r}"),
            (None, Some(b)) => format!("{key}: only in the bundled bindings: {b}"),
            (None, None) => unreachable!(),
        });
    }

    let count = |prefix: &str| bundled.keys().filter(|k| k.starts_with(prefix)).count();
    eprintln!(
        "compared {} against {}: {} constants, {} typedefs, {} functions, {} structs, \
         {} layout blocks",
        bundled_path.display(),
        os_h.display(),
        count("const "),
        count("type "),
        count("fn "),
        count("struct "),
        count("layout "),
    );
    for h in &history {
        eprintln!("  known historical difference: {h}");
    }
    assert!(
        problems.is_empty(),
        "the bundled declarations ({}) disagree with {} in {} item(s):\n{}\n\
         Fix include/haiku_thread_api.h (or record a genuine API change in \
         KNOWN_HISTORY), then regenerate: HAIKU_SYS_REGENERATE=1 cargo test -p \
         haiku-sys --test bundled_bindings",
        bundled_path.display(),
        os_h.display(),
        problems.len(),
        problems.join("\n")
    );
}

/// The comparison itself must notice a changed value, a changed offset and
/// a missing function (checked without a checkout, on synthetic input).
#[test]
fn normalization_detects_differences() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bundled = fs::read_to_string(manifest_dir.join(THREAD_API.bundled_bindings)).unwrap();
    let base = normalized_items(&bundled, "bundled");
    assert!(base.contains_key("layout thread_info"));
    assert!(base.contains_key("fn spawn_thread"));
    assert_eq!(
        base["const B_RELATIVE_TIMEOUT"],
        ":: std :: os :: raw :: c_uint = 8"
    );

    let changed_value = bundled.replace(
        "B_BAD_THREAD_ID: status_t = -2147479296",
        "B_BAD_THREAD_ID: status_t = -2147479295",
    );
    assert_ne!(
        normalized_items(&changed_value, "x")["const B_BAD_THREAD_ID"],
        base["const B_BAD_THREAD_ID"]
    );

    let changed_offset = bundled.replace(
        "thread_info, state) - 40usize",
        "thread_info, state) - 44usize",
    );
    assert_ne!(
        normalized_items(&changed_offset, "x")["layout thread_info"],
        base["layout thread_info"]
    );

    let renamed_param = bundled.replace("newPriority: int32", "prio: int32");
    assert_eq!(
        normalized_items(&renamed_param, "x")["fn set_thread_priority"],
        base["fn set_thread_priority"]
    );

    let changed_param = bundled.replace("newPriority: int32", "newPriority: uint32");
    assert_ne!(
        normalized_items(&changed_param, "x")["fn set_thread_priority"],
        base["fn set_thread_priority"]
    );

    for (key, target) in UINT32_CHAIN {
        assert_eq!(base[key], target, "UINT32_CHAIN is out of date");
    }

    let renumbered = bundled.replace("_bindgen_ty_1", "_bindgen_ty_7");
    assert_eq!(normalized_items(&renumbered, "x"), base);
}
