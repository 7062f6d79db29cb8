#!/bin/sh
# Side-by-side timing of dh_servicebuilder and Debian's dh_runit on the same
# dh-runit input: 1 service and 200 services (logscript each), on the disk
# and on tmpfs (the CPU cost without the file-system floor).
# Usage: tests/debhelper/bench.sh [path/to/dh_servicebuilder]
# Needs hyperfine and dh-runit.
set -eu
tool=$(readlink -f "${1:-target/release/dh_servicebuilder}")
[ -x "$tool" ] || { echo "build it first: cargo build --release --bin dh_servicebuilder" >&2; exit 1; }
for base in "${TMPDIR:-/tmp}" /dev/shm; do
	work=$(mktemp -d "$base/dhsb-bench.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	for case in one many; do
		mkdir -p "$work/$case/debian" "$work/$case/svc"
		printf 'Source: rdemo\nBuild-Depends: debhelper-compat (= 13)\n\nPackage: rdemo-run\nArchitecture: all\nDescription: x\n' >"$work/$case/debian/control"
		printf '#!/bin/sh\nexec sleep 1000\n' >"$work/$case/svc/demo-run"
	done
	echo 'svc/demo-run logscript,name=demo' >"$work/one/debian/rdemo-run.runit"
	for i in $(seq 1 200); do echo "svc/demo-run logscript,name=demo$i"; done >"$work/many/debian/rdemo-run.runit"
	for case in one many; do
		echo "== $case service(s), $base"
		clean="rm -rf $work/$case/debian/rdemo-run $work/$case/debian/rdemo-run.postinst.debhelper $work/$case/debian/rdemo-run.prerm.debhelper $work/$case/debian/rdemo-run.postrm.debhelper $work/$case/debian/rdemo-run.substvars"
		hyperfine -N --warmup 2 --runs 10 --prepare "$clean" \
			"sh -c 'cd $work/$case && dh_runit'" \
			"sh -c 'cd $work/$case && $tool'"
	done
	rm -rf "$work"
	trap - EXIT
done
