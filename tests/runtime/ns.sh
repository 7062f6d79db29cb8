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
#   ROOT/home             -> /home        (only when ROOT/home exists)
#   /usr gets an overlay whose upper layer is ROOT/.ovl, holding
#   /usr/lib/servicebuilder/{invoke-run,finish-default} copied from BIN_DIR.
#   When ROOT/.usr-layers exists, its lines name directories laid over the
#   host's /usr below that upper layer, the first line on top: the usr/ of
#   unpacked packages (trixie's or sid's runit, xchpst), installed in this
#   view as dpkg would put their files, over bookworm's userland.
set -eu
# shellcheck source=../common/private-ns.sh
. "$(dirname "$0")/../common/private-ns.sh"
require_private_mount_ns ns.sh
root=$1 bindir=$2
shift 2
mount --make-rprivate /
for d in etc/default etc/init.d etc/sv etc/runit; do
	mount --bind "$root/$d" "/$d"
done
if [ -d "$root/home" ]; then mount --bind "$root/home" /home; fi
lower=/usr
if [ -s "$root/.usr-layers" ]; then
	lower=$(paste -sd: "$root/.usr-layers"):/usr
fi
mkdir -p "$root/.ovl/upper" "$root/.ovl/work"
mount -t overlay overlay \
	-o "lowerdir=$lower,upperdir=$root/.ovl/upper,workdir=$root/.ovl/work" /usr
# Mount points the host may lack; created in the upper layer only.
mkdir -p /usr/share/runit
[ -e /usr/sbin/policy-rc.d ] || : >/usr/sbin/policy-rc.d
mount --bind "$root/usr/share/runit" /usr/share/runit
mount --bind "$root/policy-rc.d" /usr/sbin/policy-rc.d
mkdir -p /usr/lib/servicebuilder
cp "$bindir/invoke-run" "$bindir/finish-default" /usr/lib/servicebuilder/
exec "$@"
