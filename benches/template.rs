//! Template parsing and rendering throughput, so that regressions in the
//! code every `activate`, `rebuild` and `dh_servicebuilder` run goes
//! through show up as numbers (issue 6, part 5).
//!
//! Run with `cargo bench --manifest-path benches/Cargo.toml --bench
//! template`; `scripts/bench` runs it too and
//! copies the medians into `target/bench/micro.json`.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use servicebuilder::render::{RenderOptions, render_service};
use servicebuilder::template::{Templates, parse_templates};

/// One service as a Debian maintainer typically writes it: an argv, the
/// standard log service, a user, a small environment, a dependency, a
/// config test and the daemon binary.
fn typical_service(i: usize) -> String {
    format!(
        "web{i}:\n\
         \x20 run: [/usr/sbin/webd, --foreground, --port, \"{port}\", --config, /etc/webd/{i}.conf]\n\
         \x20 default_log: true\n\
         \x20 user: www-data\n\
         \x20 env:\n\
         \x20   LANG: C.UTF-8\n\
         \x20   WEBD_WORKERS: \"4\"\n\
         \x20   WEBD_GREETING: \"it's a 'quoted' $value\"\n\
         \x20 depends: [db{i}]\n\
         \x20 configtest: [/usr/sbin/webd, --check, --config, /etc/webd/{i}.conf]\n\
         \x20 onupgrade: restart\n",
        port = 8000 + i
    )
}

/// A template file of `n` typical services.
fn template_file(n: usize) -> String {
    (0..n).map(typical_service).collect()
}

fn parse(text: &str) -> Templates {
    parse_templates(text, Path::new("bench.yaml")).expect("the benchmark's templates are valid")
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for n in [1usize, 100, 1000] {
        let text = template_file(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| parse(black_box(text)))
        });
    }
    group.finish();
}

fn bench_render(c: &mut Criterion) {
    let opts = RenderOptions::default();
    let mut group = c.benchmark_group("render");
    for n in [1usize, 1000] {
        let templates = parse(&template_file(n));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(n),
            &templates,
            |b, templates| {
                b.iter(|| {
                    templates
                        .iter()
                        .map(|(name, t)| render_service(black_box(name), black_box(t), &opts).len())
                        .sum::<usize>()
                })
            },
        );
    }
    group.finish();
}

/// What `activate` does in memory before it touches the file system.
fn bench_parse_and_render(c: &mut Criterion) {
    let opts = RenderOptions::default();
    let mut group = c.benchmark_group("parse_and_render");
    for n in [1usize, 1000] {
        let text = template_file(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                let templates = parse(black_box(text));
                templates
                    .iter()
                    .map(|(name, t)| render_service(name, t, &opts).len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse, bench_render, bench_parse_and_render);
criterion_main!(benches);
