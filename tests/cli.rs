//! The `servicebuilder` command and the builder library, as a user sees
//! them: the seed package's own tests ported, plus what this project adds.

#[path = "cli/activate.rs"]
mod activate;
#[path = "cli/bad_input.rs"]
mod bad_input;
#[path = "cli/check_render.rs"]
mod check_render;
#[path = "cli/compat.rs"]
mod compat;
#[path = "cli/depends.rs"]
mod depends;
#[path = "cli/fixture.rs"]
mod fixture;
#[path = "cli/host_defects.rs"]
mod host_defects;
#[path = "cli/linking.rs"]
mod linking;
#[path = "cli/manpages.rs"]
mod manpages;
#[path = "cli/operator.rs"]
mod operator;
#[path = "common/procs.rs"]
mod procs;
#[path = "cli/prune.rs"]
mod prune;
#[path = "cli/quoting.rs"]
mod quoting;
#[path = "cli/xchopts.rs"]
mod xchopts;
