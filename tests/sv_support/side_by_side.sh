# The same package life cycle under Debian's runit-helper or under
# `servicebuilder maint`, with the real host paths (inside a private mount
# namespace: every path below is a tmpfs that only this namespace sees).
# Usage: unshare -m sh side_by_side.sh debian|ours SERVICEBUILDER
set -eu
TOOL=$1 SB=$2
mount -t tmpfs tmpfs /etc/sv
mount -t tmpfs tmpfs /etc/runit/runsvdir
mkdir /etc/runit/runsvdir/default
ln -s /etc/runit/runsvdir/default /etc/runit/runsvdir/current
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/log
mkdir /var/log/runit
helper() {
  s=$1 n=$2 e=$3 o=$4; shift 4
  if [ "$TOOL" = debian ]; then
    NAME=$n ENABLE=$e ONUPGRADE=$o /lib/runit-helper/runit-helper "$s" "$@"
  else
    "$SB" maint "$s" --name "$n" --enable "$e" --onupgrade "$o" --package "$n" -- "$@"
  fi
}
unpack() {
  mkdir -p "/etc/sv/$1/log" "/etc/sv/$1/.meta" "/var/log/runit/$1"
  printf '#!/bin/sh\nexec sleep 1000\n' > "/etc/sv/$1/run"
  cp "/etc/sv/$1/run" "/etc/sv/$1/log/run"
  echo "package $1" > "/etc/sv/$1/.meta/servicebuilder"
}
runsv_was_here() {
  for d in "/run/runit/supervise/$1" "/run/runit/supervise/$1.log"; do
    mkdir -p "$d"
    mkfifo "$d/ok" "$d/control"
    for f in lock pid stat status; do : > "$d/$f"; done
  done
}
snap() {
  echo "== $1"
  find /etc/sv /etc/runit/runsvdir /run /var/log -mindepth 1 \
    \( -type l -printf '%p -> %l\n' -o -printf '%p %y\n' \) | sort
}
unpack foo
unpack bar
helper postinst foo yes restart configure ''
helper postinst bar no restart configure ''
snap install
mv /etc/runit/runsvdir/default/foo /etc/runit/runsvdir/default/.foo
helper postinst foo yes restart configure 1.0
snap upgrade-while-disabled
rm /etc/runit/runsvdir/default/.foo
helper postinst foo yes restart configure 1.0
runsv_was_here foo
snap re-enabled
helper prerm foo yes restart remove
helper postrm foo yes restart remove
helper prerm bar no restart remove
helper postrm bar no restart remove
snap remove
ln -s /etc/sv/foo /etc/runit/runsvdir/default/.foo
rm -r /etc/sv/foo /etc/sv/bar
helper postrm foo yes restart purge
helper postrm bar no restart purge
snap purge
