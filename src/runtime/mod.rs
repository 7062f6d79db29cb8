//! The runtime: invoke-run and finish-default.
