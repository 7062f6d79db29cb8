#!/bin/sh
# Usage: unshare -m sh ns.sh ROOT BIN_DIR COMMAND...
#
# Runs COMMAND in the current (private, unshare -m) mount namespace after
# laying the test tree ROOT over the paths that invoke-run and finish-default
# hard-code. Nothing outside ROOT is written: every mount is private to the
# namespace and disappears with it.
#
#   ROOT/etc/default      -> /etc/default
#   ROOT/etc/init.d       -> /etc/init.d
#   ROOT/etc/sv           -> /etc/sv
#   ROOT/etc/runit        -> /etc/runit   (so /etc/service resolves into ROOT)
#   ROOT/usr/share/runit  -> /usr/share/runit
#   ROOT/policy-rc.d      -> /usr/sbin/policy-rc.d
#   /usr/lib gets an overlay whose upper layer is ROOT/.ovl, holding
#   /usr/lib/servicebuilder/{invoke-run,finish-default} copied from BIN_DIR.
set -eu
# shellcheck source=../common/private-ns.sh
. "$(dirname "$0")/../common/private-ns.sh"
require_private_mount_ns ns.sh
root=$1 bindir=$2
shift 2
mount --make-rprivate /
for d in etc/default etc/init.d etc/sv etc/runit usr/share/runit; do
	mount --bind "$root/$d" "/$d"
done
mount --bind "$root/policy-rc.d" /usr/sbin/policy-rc.d
mkdir -p "$root/.ovl/upper" "$root/.ovl/work"
mount -t overlay overlay \
	-o "lowerdir=/usr/lib,upperdir=$root/.ovl/upper,workdir=$root/.ovl/work" /usr/lib
mkdir -p /usr/lib/servicebuilder
cp "$bindir/invoke-run" "$bindir/finish-default" /usr/lib/servicebuilder/
exec "$@"
