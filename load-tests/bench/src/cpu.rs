//! CPU time of this process (all threads, including librdkafka's) or of another one (the
//! broker), from `/proc/<pid>/stat`.

use std::time::Duration;

/// Clock ticks per second of `utime`/`stime` in `/proc/<pid>/stat`: Linux reports them in
/// `USER_HZ`, which is 100 on every architecture the kernel exports to user space.
const USER_HZ: u64 = 100;

/// Why the CPU time could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CpuError {
    /// `/proc/<pid>/stat` is missing (not Linux, no such process) or unreadable.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file does not have the expected layout.
    #[error("unexpected /proc/self/stat layout: {0}")]
    Layout(String),
}

/// User + system CPU time this process has used so far (10 ms resolution).
///
/// # Errors
/// [`CpuError`] when `/proc/self/stat` cannot be read or parsed.
pub fn process_cpu() -> Result<Duration, CpuError> {
    cpu_of("/proc/self/stat")
}

/// User + system CPU time of this process's children that have exited and been waited for
/// (e.g. a `clickhouse-client` run to completion), from `cutime` + `cstime`.
///
/// # Errors
/// [`CpuError`] when `/proc/self/stat` cannot be read or parsed.
pub fn children_cpu() -> Result<Duration, CpuError> {
    let path = "/proc/self/stat";
    let stat = std::fs::read_to_string(path).map_err(|source| CpuError::Read {
        path: path.to_owned(),
        source,
    })?;
    ticks_of(&stat, [(13, "cutime"), (14, "cstime")])
}

/// User + system CPU time process `pid` has used so far (10 ms resolution).
///
/// # Errors
/// [`CpuError`] when `/proc/<pid>/stat` cannot be read or parsed.
pub fn pid_cpu(pid: u32) -> Result<Duration, CpuError> {
    cpu_of(&format!("/proc/{pid}/stat"))
}

/// Reads this process's CPU time and, when its pid is known, the broker's.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuClock {
    broker_pid: Option<u32>,
}

/// CPU time used so far, or in an interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTime {
    /// This process.
    pub own: Duration,
    /// The broker process, when the clock knows its pid.
    pub broker: Option<Duration>,
}

impl CpuClock {
    /// A clock for this process and, if given, the broker process `broker_pid`.
    pub fn new(broker_pid: Option<u32>) -> Self {
        Self { broker_pid }
    }

    /// CPU time used so far.
    ///
    /// # Errors
    /// [`CpuError`] when a `/proc/<pid>/stat` cannot be read (e.g. the broker exited).
    pub fn now(&self) -> Result<CpuTime, CpuError> {
        Ok(CpuTime {
            own: process_cpu()?,
            broker: self.broker_pid.map(pid_cpu).transpose()?,
        })
    }
}

impl CpuTime {
    /// The CPU time used between `earlier` and `self`.
    pub fn since(&self, earlier: &CpuTime) -> CpuTime {
        CpuTime {
            own: self.own.saturating_sub(earlier.own),
            broker: self
                .broker
                .zip(earlier.broker)
                .map(|(now, then)| now.saturating_sub(then)),
        }
    }
}

fn cpu_of(path: &str) -> Result<Duration, CpuError> {
    let stat = std::fs::read_to_string(path).map_err(|source| CpuError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_stat(&stat)
}

/// Parses `utime` + `stime` (fields 14 and 15) out of a `/proc/<pid>/stat` line. The command
/// name (field 2) is in parentheses and may contain spaces, so fields are counted after the
/// last `)`.
fn parse_stat(stat: &str) -> Result<Duration, CpuError> {
    ticks_of(stat, [(11, "utime"), (12, "stime")])
}

/// The sum of two tick fields, indexed from field 3 (the one after the command name).
fn ticks_of(stat: &str, which: [(usize, &str); 2]) -> Result<Duration, CpuError> {
    let rest = stat
        .rfind(')')
        .map(|at| &stat[at + 1..])
        .ok_or_else(|| CpuError::Layout("no ')' after the command name".to_owned()))?;
    // After ')' the first field is field 3 (state): utime is field 14, stime field 15,
    // cutime 16, cstime 17.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |index: usize, name: &str| -> Result<u64, CpuError> {
        fields
            .get(index)
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| CpuError::Layout(format!("no numeric {name}")))
    };
    let [(a, a_name), (b, b_name)] = which;
    let ticks = field(a, a_name)? + field(b, b_name)?;
    Ok(Duration::from_millis(ticks * 1000 / USER_HZ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_utime_and_stime_after_the_command_name() {
        let line = "4242 (stage bench) S 1 2 3 4 5 6 7 8 9 10 250 30 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_stat(line).ok(), Some(Duration::from_millis(2800)));
    }

    #[test]
    fn children_ticks_follow_our_own() {
        let line = "4242 (stage bench) S 1 2 3 4 5 6 7 8 9 10 250 30 7 3 20 0 9 0 100 0 0";
        let children = ticks_of(line, [(13, "cutime"), (14, "cstime")]);
        assert_eq!(children.ok(), Some(Duration::from_millis(100)));
        assert!(children_cpu().is_ok());
    }

    #[test]
    fn rejects_a_truncated_line() {
        assert!(parse_stat("4242 (x) S 1 2").is_err());
        assert!(parse_stat("garbage").is_err());
    }

    #[test]
    fn reads_this_process() {
        assert!(process_cpu().is_ok());
        assert!(pid_cpu(std::process::id()).is_ok());
    }
}
