#!/bin/sh
# Usage: once.sh NAME OUT [PATH]
#
# Inside the namespace of ns.sh: supervise /etc/service/NAME with a real
# runsv in the environment of Debian's /etc/runit/2 (PATH only), normally
# down, start the service once (o), wait until its finish script has written
# OUT/finished and runsv reports it down, then tell runsv to exit. runsv's
# stdout and stderr (the run script's, when there is no log service) go to
# OUT/stdout and OUT/stderr. PATH replaces the default PATH; `-` leaves it
# unset.
set -eu
name=$1 out=$2 path=${3:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
# Without a down file runsv would start the service on its own as well.
touch "/etc/service/$name/down"
if [ "$path" = - ]; then set --; else set -- "PATH=$path"; fi
env - "$@" /usr/bin/runsv "/etc/service/$name" >"$out/stdout" 2>"$out/stderr" &
runsv=$!
sv=/etc/service/$name
stop() { printf x >"$sv/supervise/control" 2>/dev/null || kill "$runsv" 2>/dev/null || true; wait "$runsv" || true; }
trap stop EXIT
i=0
until [ -p "$sv/supervise/ok" ] && [ -s "$sv/supervise/stat" ]; do
	i=$((i + 1)); [ $i -lt 500 ] || { echo "runsv did not start" >&2; exit 1; }
	sleep 0.01
done
printf o >"$sv/supervise/control"
i=0
until [ -e "$out/finished" ] && [ "$(cat "$sv/supervise/stat")" = down ]; do
	i=$((i + 1)); [ $i -lt 1000 ] || { echo "service did not finish" >&2; exit 1; }
	sleep 0.01
done
