#!/usr/bin/perl
# dh sequence add-on: run dh_servicebuilder (see dh_servicebuilder(1)).
use strict;
use warnings;
use Debian::Debhelper::Dh_Lib;

# Where dh_runit runs: dh_fixperms does not set the executable bit under
# /etc/sv, so the runscripts must be installed with it before, and the
# snippets, conffiles and substvars must exist before dh_installdeb and
# dh_gencontrol.
insert_before('dh_fixperms', 'dh_servicebuilder');

# A package switched from the runit addon may keep override_dh_runit or
# execute_before/after_dh_runit targets, which dh would silently skip now
# that dh_runit is not in the sequence: dh warns about each (an error from
# compat 14), naming the target to rename. Activating the runit addon as
# well is an error (both commands would install the same services). The
# error level argument needs debhelper 13.4 or later (bookworm has 13.11).
declare_command_obsolete(14, 'dh_runit');

1;
