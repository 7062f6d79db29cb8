# shellcheck shell=bash
# $repo and $work are the sourcing script's (see below).
# shellcheck disable=SC2154
# Shared by tests/e2e/run and scripts/main-job: building the project's
# packages and the example, without touching the host's dpkg database.
# Source it from bash; it expects $repo (the checkout) and $work (a scratch
# directory that the caller removes).

# Prints a one-line note to stderr.
note() {
	echo "${note_prefix:-e2e}: $*" >&2
}

fail() {
	echo "${note_prefix:-e2e}: FAIL: $*" >&2
	exit 1
}

# Installs the host tools the build and the root need, when missing: the
# same apt-get an admin would run. cargo cannot come from Debian 12 (too
# old for edition 2024), so its absence is an error that says where to get it.
ensure_host_tools() {
	local p missing=()
	for p in debhelper dpkg-dev build-essential lintian debootstrap util-linux iproute2; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		note "apt-get install ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
	fi
	command -v cargo >/dev/null ||
		fail "cargo not found: install a Rust toolchain with rustc >= 1.88 (the rust-version in Cargo.toml), e.g. from https://rustup.rs"
}

# Runs a long command quietly, showing its log only if it fails.
quietly() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		fail "'$*' failed (last 60 lines of $log above)"
	fi
}

# Copies the checkout's sources to $1: what git tracks plus new files it does
# not ignore (uncommitted work included), never build output. Outside a git
# checkout, everything but target directories.
copy_sources() {
	local dest=$1
	if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$repo" ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				# Deleted in the working tree but not yet in the index.
				if [ -e "$repo/$f" ] || [ -L "$repo/$f" ]; then printf '%s\0' "$f"; fi
			done |
			tar -C "$repo" --null --no-recursion -T - -cf - | tar -C "$dest" -xf -
	else
		tar -C "$repo" --exclude=target --exclude=.git -cf - . | tar -C "$dest" -xf -
	fi
}

# Builds servicebuilder and dh-servicebuilder from a copy of the checkout,
# so that dpkg-buildpackage writes its results into target/, not next to the
# checkout. The copy keeps a fixed path and the files' times, so cargo finds
# its earlier work in target/deb fresh and only rebuilds what changed.
# Sets $rt_deb and $dh_deb (copies in $work/project).
build_project_debs() {
	local top=$repo/target/e2e-build
	local src=$top/servicebuilder
	mkdir -p "$top" "$work/project"
	# Two builds at once (the main job and the test) take turns.
	exec 8>"$top/.lock"
	flock 8
	rm -rf "$src" "$top"/*.deb "$top"/*.changes "$top"/*.buildinfo "$top"/*.dsc "$top"/*.tar.*
	mkdir -p "$src"
	copy_sources "$src"
	note "building servicebuilder and dh-servicebuilder (dpkg-buildpackage -us -uc -b, then -S; logs in $work/project)"
	(
		cd "$src" || exit
		export CARGO_TARGET_DIR=$repo/target/deb
		export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
		# The crate-registry build: this host has no Debian Rust packages
		# (README, "Building in Debian").
		quietly "$work/project/build.log" dpkg-buildpackage -us -uc -b -Ppkg.servicebuilder.crates-io
		quietly "$work/project/source.log" dpkg-buildpackage -us -uc -S -Ppkg.servicebuilder.crates-io
	)
	cp "$top"/*.deb "$top"/*.dsc "$top"/*.tar.* "$work/project/"
	exec 8>&-
	rt_deb=$(ls "$work"/project/servicebuilder_*.deb)
	dh_deb=$(ls "$work"/project/dh-servicebuilder_*.deb)
	[ -f "$rt_deb" ] && [ -f "$dh_deb" ] || fail "dpkg-buildpackage made no servicebuilder/dh-servicebuilder .deb"
}

# lintian on both binary packages: no error, no warning.
lint_project_debs() {
	local out=$work/project/lintian.txt
	lintian --fail-on error,warning "$rt_deb" "$dh_deb" >"$out" 2>&1 || {
		cat "$out" >&2
		fail "lintian reports errors or warnings on the project's packages (above)"
	}
	if grep -E '^[EW]: ' "$out" >&2; then
		fail "lintian reports errors or warnings on the project's packages (above)"
	fi
}

# Makes dh-servicebuilder usable for building the example without
# installing it on the host: the package is unpacked into $work/dh, put on
# PATH and PERL5LIB, and a copy of the host's dpkg status that also lists it
# lets dpkg-checkbuilddeps prove that the example's
# `Build-Depends: dh-sequence-servicebuilder` is satisfied by it.
stage_dh_servicebuilder() {
	local dh=$work/dh
	mkdir -p "$dh/root" "$dh/admin/updates"
	dpkg-deb -x "$dh_deb" "$dh/root"
	{
		cat /var/lib/dpkg/status
		echo
		dpkg-deb -f "$dh_deb" | sed '/^Package:/a Status: install ok installed'
	} >"$dh/admin/status"
	: >"$dh/admin/available"
	dh_path=$dh/root/usr/bin:$PATH
	dh_perl5lib=$dh/root/usr/share/perl5${PERL5LIB:+:$PERL5LIB}
	dh_admindir=$dh/admin
}

# Builds a copy of examples/greeter.
#   build_example VERSION ONUPGRADE [PREINST_PROBE]
# VERSION is the Debian version; ONUPGRADE replaces greeter's onupgrade;
# with PREINST_PROBE=yes the copy gets a preinst that records the state of
# greeter at that moment (after the old package's prerm ran) in
# /run/greeter-e2e/preinst-stat. Prints the path of the .deb.
build_example() {
	local version=$1 onupgrade=$2 probe=${3:-no}
	local dir=$work/example/$version
	mkdir -p "$dir"
	cp -a "$repo/examples/greeter" "$dir/greeter"
	local src=$dir/greeter
	if [ "$version" != "$(cd "$src" && dpkg-parsechangelog -S Version)" ]; then
		{
			printf 'greeter (%s) unstable; urgency=medium\n\n' "$version"
			printf '  * e2e variant: onupgrade=%s.\n\n' "$onupgrade"
			printf ' -- Servicebuilder Example <servicebuilder@example.org>  %s\n\n' "$(date -R)"
			cat "$src/debian/changelog"
		} >"$src/debian/changelog.new"
		mv "$src/debian/changelog.new" "$src/debian/changelog"
	fi
	grep -q '^  onupgrade: restart$' "$src/debian/greeter.runit.yaml" ||
		fail "examples/greeter/debian/greeter.runit.yaml no longer says 'onupgrade: restart' for greeter; update build_example"
	sed -i "s/^  onupgrade: restart\$/  onupgrade: $onupgrade/" "$src/debian/greeter.runit.yaml"
	if [ "$probe" = yes ]; then
		cat >"$src/debian/greeter.preinst" <<-'EOF'
			#!/bin/sh
			set -e
			# e2e probe: what the old package's prerm left behind.
			if [ "$1" = upgrade ]; then
				mkdir -p /run/greeter-e2e
				cat /etc/sv/greeter/supervise/stat >/run/greeter-e2e/preinst-stat 2>/dev/null ||
					echo "no supervise/stat" >/run/greeter-e2e/preinst-stat
			fi
			#DEBHELPER#
			exit 0
		EOF
	fi
	(
		cd "$src" || exit
		PATH=$dh_path PERL5LIB=$dh_perl5lib quietly "$dir/checkbuilddeps.log" \
			dpkg-checkbuilddeps --admindir="$dh_admindir"
		PATH=$dh_path PERL5LIB=$dh_perl5lib quietly "$dir/build.log" \
			dpkg-buildpackage -us -uc -b -d
	)
	ls "$dir"/greeter_"${version#*:}"_all.deb
}

# Builds the small package sbx that the trigger step installs, with
# dh_servicebuilder (as build_example does, dh-servicebuilder unpacked):
#   build_sbx VERSION
# sbx ships /usr/sbin/sbxd (a shell loop) and two services:
#   - sbx, from debian/sbx.runit.yaml, `enable: false`: installed, never
#     enabled, whatever runit's trigger does;
#   - sbxl, from the dh-runit file debian/sbx.runit with `bin=/usr/sbin/sbxd`
#     and a runscript saying ##bin##: in dh-runit 2.16's model, enabled by
#     runit's trigger when the binary appears, with only a postrm snippet;
#   - sbxu, from the YAML with `layout: usr`: runit-services' layout,
#     /usr/share/runit/sv/sbxu, enabled by the trigger in the same way.
# Prints the path of the .deb. Also builds poke (prints its path on a
# second line): a package with just /usr/bin/poke, whose installation
# fires runit's trigger (interest in /usr/bin).
build_sbx() {
	local version=$1
	local dir=$work/sbx/$version
	local src=$dir/sbx
	mkdir -p "$src/debian/source"
	cat >"$src/debian/control" <<-'EOF'
		Source: sbx
		Section: admin
		Priority: optional
		Maintainer: Servicebuilder Test <servicebuilder@example.org>
		Build-Depends: debhelper-compat (= 13), dh-sequence-servicebuilder
		Standards-Version: 4.6.2
		Rules-Requires-Root: no

		Package: sbx
		Architecture: all
		Depends: ${misc:Depends}
		Breaks: ${runit:Breaks}
		Description: servicebuilder end-to-end test services
		 A disabled YAML service and a legacy bin= service.
	EOF
	printf 'sbx (%s) unstable; urgency=medium\n\n  * e2e.\n\n -- Servicebuilder Test <servicebuilder@example.org>  %s\n' \
		"$version" "$(date -R)" >"$src/debian/changelog"
	printf '3.0 (native)\n' >"$src/debian/source/format"
	printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2026 Servicebuilder Test\nLicense: MIT\n' >"$src/debian/copyright"
	# The daemon: says which version started, then sleeps.
	printf '#!/bin/sh\necho "sbxd %s started as $$"\nexec sleep 100000\n' "$version" >"$src/sbxd"
	# printf, not a here-document: make needs the recipe's tabs.
	printf '#!/usr/bin/make -f\n%%:\n\tdh $@\noverride_dh_auto_install:\n\tinstall -D -m 0755 sbxd debian/sbx/usr/sbin/sbxd\n' \
		>"$src/debian/rules"
	chmod +x "$src/debian/rules"
	cat >"$src/debian/sbx.runit.yaml" <<-'EOF'
		sbx:
		  run: [/usr/sbin/sbxd]
		  enable: false
		sbxu:
		  run: [/usr/sbin/sbxd]
		  layout: usr
	EOF
	printf '#!/bin/sh\nexec 2>&1\nexec ##bin##\n' >"$src/debian/sbxl.run"
	printf 'debian/sbxl.run name=sbxl,bin=/usr/sbin/sbxd\n' >"$src/debian/sbx.runit"
	(
		cd "$src" || exit
		PATH=$dh_path PERL5LIB=$dh_perl5lib quietly "$dir/build.log" \
			dpkg-buildpackage -us -uc -b -d
	)
	ls "$dir"/sbx_"$version"_all.deb
	local poke=$work/sbx/poke
	if [ ! -e "$poke.deb" ]; then
		mkdir -p "$poke/DEBIAN" "$poke/usr/bin"
		printf '#!/bin/sh\nexit 0\n' >"$poke/usr/bin/poke"
		chmod 0755 "$poke/usr/bin/poke"
		printf 'Package: poke\nVersion: 1.0\nArchitecture: all\nMaintainer: Servicebuilder Test <servicebuilder@example.org>\nDescription: fires runit'"'"'s trigger\n' >"$poke/DEBIAN/control"
		dpkg-deb --root-owner-group -b "$poke" "$poke.deb" >/dev/null
	fi
	echo "$poke.deb"
}
