//! Finding the processes a test started, by parent pid.

/// The pids whose parent is `parent`, from /proc.
pub fn children_of(parent: u32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // The command name may hold spaces; it ends at the last ')', and
        // the fields after it are: state, ppid, ...
        let rest = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
        if rest.split_whitespace().nth(1) == Some(&parent.to_string()) {
            out.push(pid);
        }
    }
    out
}
