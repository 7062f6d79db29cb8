#!/bin/sh
# Usage: supervise.sh NAME OUT SECONDS [MARK]
#
# Inside the namespace of ns.sh: supervise /etc/service/NAME (want up) with
# a real runsv, in the environment of Debian's /etc/runit/2, for SECONDS
# seconds after OUT/MARK appears (default: starts; the run script is
# expected to append a line to OUT/starts at each start), then save
# supervise/stat as OUT/stat and tell runsv to exit.
set -eu
name=$1 out=$2 seconds=$3 mark=${4:-starts}
env - PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	runsv "/etc/service/$name" >"$out/stdout" 2>"$out/stderr" &
runsv=$!
sv=/etc/service/$name
stop() { printf x >"$sv/supervise/control" 2>/dev/null || kill "$runsv" 2>/dev/null || true; wait "$runsv" || true; }
trap stop EXIT
i=0
until [ -s "$out/$mark" ]; do
	i=$((i + 1)); [ $i -lt 1000 ] || { echo "the service never started" >&2; exit 1; }
	sleep 0.01
done
sleep "$seconds"
cat "$sv/supervise/stat" >"$out/stat"
