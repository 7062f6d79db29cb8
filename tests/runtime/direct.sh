#!/bin/sh
# Usage: direct.sh NAME OUT [COMMAND...]
#
# Inside the namespace of ns.sh: run /etc/sv/NAME/run from its directory
# without runsv, through COMMAND (for example setpriv, to run it as another
# user); its stdout, stderr and exit code go to OUT/stdout, OUT/stderr and
# OUT/rc.
name=$1 out=$2
shift 2
cd "/etc/sv/$name" || exit 1
"$@" ./run >"$out/stdout" 2>"$out/stderr"
echo $? >"$out/rc"
