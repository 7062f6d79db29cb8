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

1;
