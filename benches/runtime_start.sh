#!/bin/sh
# Usage: benches/runtime_start.sh DYNAMIC_BIN_DIR [STATIC_BIN_DIR] [RUNS]
#
# Start-up cost of invoke-run: hyperfine runs ./run (body `exec /bin/true`)
# from a service directory under each interpreter, side by side:
#   plain    #!/bin/sh                              (no interpreter: the floor)
#   c-exec   #!<a C program that only execs /bin/sh> (the floor of any interpreter)
#   debian   #!/usr/bin/env /lib/runit/invoke-run
#   dynamic  #!DYNAMIC_BIN_DIR/invoke-run
#   static   #!STATIC_BIN_DIR/invoke-run             (if given)
# The host's /etc/default/runit is read as on any machine with runit. The
# service directories live in a temporary directory; the host's deny-all
# policy-rc.d is masked in a private mount namespace (unshare -m).
set -eu
dyn=$1 static=${2:-} runs=${3:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'exit 0\n' >"$tmp/masked-policy"
cat >"$tmp/c-exec.c" <<'C'
#include <unistd.h>
#include <limits.h>
#include <string.h>
int main(int argc, char **argv) {
	char path[PATH_MAX];
	(void)argc; (void)argv;
	if (!getcwd(path, sizeof path - 5)) return 111;
	strcat(path, "/run");
	execl("/bin/sh", "/bin/sh", path, (char *)0);
	return 111;
}
C
cc -O2 -o "$tmp/c-exec.bin" "$tmp/c-exec.c"
mk() { mkdir -p "$tmp/$1"; printf '%s\nexec /bin/true\n' "$2" >"$tmp/$1/run"; chmod +x "$tmp/$1/run"; }
mk plain '#!/bin/sh'
mk c-exec "#!$tmp/c-exec.bin"
mk debian '#!/usr/bin/env /lib/runit/invoke-run'
mk dynamic "#!$dyn/invoke-run"
[ -z "$static" ] || mk static "#!$static/invoke-run"
variants="plain c-exec debian dynamic"
[ -z "$static" ] || variants="$variants static"
# Round-robin in short batches, so that a change of machine load hits every
# variant alike; report the median of the batch medians (wall clock) and the
# mean CPU time (user + system), which load disturbs less.
unshare -m sh -c '
	set -eu
	mount --bind "$1/masked-policy" /usr/sbin/policy-rc.d
	tmp=$1 runs=$2; shift 2
	for round in 1 2 3 4 5; do
		for v in "$@"; do
			cd "$tmp/$v"
			hyperfine -N --style none --warmup 20 --runs "$runs" \
				--export-json "$tmp/$v.$round.json" ./run >/dev/null 2>&1
		done
	done
' sh "$tmp" "$runs" $variants
python3 - "$tmp" $variants <<'PY'
import json, statistics, sys
tmp, variants = sys.argv[1], sys.argv[2:]
rows = {}
for v in variants:
    rs = [json.load(open(f"{tmp}/{v}.{r}.json"))["results"][0] for r in range(1, 6)]
    rows[v] = (statistics.median(r["median"] for r in rs) * 1e3,
               statistics.mean(r["user"] + r["system"] for r in rs) * 1e3,
               min(r["min"] for r in rs) * 1e3)
base = rows["plain"]
print("%-8s %12s %12s %10s %14s" % ("variant", "median ms", "cpu ms", "min ms", "cpu over plain"))
for v, (med, cpu, mn) in rows.items():
    print("%-8s %12.3f %12.3f %10.3f %14.3f" % (v, med, cpu, mn, cpu - base[1]))
PY
