# shellcheck shell=sh
# Sourced by the test scripts that mount over the host's own paths (/etc,
# /usr, /var, /run). Their callers start them with `unshare -m`; run any
# other way, their mounts would land on the host. So they refuse unless
# this shell's mount namespace differs from its parent's (the caller's,
# outside `unshare -m`). pid 1's namespace is not used: a container may
# not let it be read.
require_private_mount_ns() {
	own_ns=$(readlink /proc/self/ns/mnt) || own_ns=
	parent_ns=$(readlink "/proc/$PPID/ns/mnt") || parent_ns=
	if [ -z "$own_ns" ] || [ -z "$parent_ns" ] || [ "$own_ns" = "$parent_ns" ]; then
		echo "$1: refused: it mounts over host paths and must be started with unshare -m, as its caller does" >&2
		exit 1
	fi
}
