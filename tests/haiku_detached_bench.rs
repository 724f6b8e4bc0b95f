//! T1: `dead-threads bench` builds the join benchmark for the host against
//! the container headers of the checkout named by `HAIKU_TOP` and prints a
//! result for each implementation and N. Only the shape of the output is
//! checked: the numbers are measurements, not test conditions (the ratios
//! are printed by `dead-threads bench` itself). Ignored without `HAIKU_TOP`.

mod common;

use common::checkout::haiku_top;
use dead_threads::bench::{self, Impl};

#[test]
#[cfg_attr(not(haiku_top), ignore = "needs HAIKU_TOP (a Haiku checkout)")]
fn benchmark_builds_against_the_checkout_and_reports_every_n() {
    let top = haiku_top();
    let sizes = [10, 300];
    let report = bench::measure(&top, None, &sizes).unwrap_or_else(|e| panic!("{e:#}"));
    for imp in [Impl::List, Impl::Index] {
        for n in sizes {
            let m = report
                .measurements
                .iter()
                .find(|m| m.imp == imp && m.n == n)
                .unwrap_or_else(|| panic!("no {imp:?} result for N = {n}"));
            assert!(m.forward_ns > 0.0 && m.reverse_ns > 0.0, "{m:?}");
            assert!(
                (m.ratio - m.reverse_ns / m.forward_ns).abs() < 0.01 * m.ratio.max(1.0),
                "{m:?}"
            );
        }
    }
    let table = bench::render_table(&report);
    assert!(table.contains("reverse/fwd"), "{table}");
}

#[test]
fn a_directory_without_the_headers_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = bench::measure(dir.path(), None, &[10])
        .unwrap_err()
        .to_string();
    assert!(err.contains("OpenHashTable.h"), "{err}");
}
