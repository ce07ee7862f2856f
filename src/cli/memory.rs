//! Peak resident memory of this process, for `convert --stats`: the figure issue 14 budgets
//! (peak RSS under twice the model file plus 100 MB).

/// Peak resident set size in bytes: `VmHWM` of `/proc/self/status`, which the kernel keeps
/// as the high-water mark of the whole run. `None` where there is no procfs (macOS, Windows)
/// or the line cannot be read; the report then says "unavailable" rather than guess.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// The `VmHWM:   12345 kB` line of a `/proc/<pid>/status` text, in bytes.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut fields = line["VmHWM:".len()..].split_whitespace();
    let n: u64 = fields.next()?.parse().ok()?;
    match fields.next()? {
        "kB" => n.checked_mul(1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_high_water_mark_in_bytes() {
        let status = "Name:\tmlrewrite\nVmPeak:\t  900 kB\nVmHWM:\t   713 kB\nVmRSS:\t 500 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(713 * 1024));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\t 12 MB\n"), None);
    }
}
