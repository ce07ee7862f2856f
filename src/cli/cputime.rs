//! CPU time of this process, for `convert --stats`: on a shared machine the phases' wall times
//! include waiting for a core (a ResNet50 took 1.9 s of wall time for 0.8 s of CPU at load
//! average 10 on 2 cores), so the report gives the CPU time the run really used next to them.

/// User and system CPU time in seconds: fields 14 and 15 (`utime`, `stime`) of
/// `/proc/self/stat`, in clock ticks of 1/100 s (`USER_HZ`, 100 on every Linux ABI). `None`
/// where there is no procfs (macOS, Windows) or the line cannot be read.
pub fn cpu_seconds() -> Option<(f64, f64)> {
    parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// `utime` and `stime` of a `/proc/<pid>/stat` line, in seconds. The command name (field 2)
/// is in parentheses and may hold spaces, so fields are counted after its closing `)`.
fn parse_stat(stat: &str) -> Option<(f64, f64)> {
    let after = &stat[stat.rfind(')')? + 1..];
    // After `)`: state is field 3, so utime (14) and stime (15) are the 12th and 13th.
    let mut fields = after.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user as f64 / 100.0, system as f64 / 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_system_ticks_after_the_command_name() {
        let stat = "4242 (ml rewrite) R 1 4242 4242 0 -1 4194304 1500 0 0 0 87 13 0 0 20 0 1 0 100 0 0";
        assert_eq!(parse_stat(stat), Some((0.87, 0.13)));
        assert_eq!(parse_stat("4242 (x) R 1"), None);
    }
}
