//! The twin processor as the real `sxfleet process` binary, to be killed with SIGKILL at
//! chosen moments, and the consumer-group progress that tells when to.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sxfleet::pipeline::PipelineConfig;

use super::kafka::GroupProgress;

/// How long one run may take to consume all input (a restart waits out the dead member's
/// 10 s session and possibly a dead writer's transaction timeout).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// Watches how many input records the twin stage of `config` has committed.
pub fn progress_of(config: &PipelineConfig) -> GroupProgress {
    GroupProgress::new(
        &config.kafka.bootstrap,
        &config.app_id("twin"),
        &config.topics.events,
        config.partitions,
    )
}

/// Waits until the twin stage of `config` has committed at least `target` input records.
pub fn wait_progress(progress: &GroupProgress, twin: &mut Twin, target: i64) {
    let deadline = Instant::now() + DRAIN_LIMIT;
    loop {
        let (done, _) = progress.get();
        if done >= target {
            return;
        }
        twin.assert_alive();
        assert!(
            Instant::now() < deadline,
            "{target} input records not consumed after {DRAIN_LIMIT:?}: {done}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the twin stage of `config` has committed every input record.
pub fn wait_drained(progress: &GroupProgress, running: &mut [&mut Twin]) {
    let deadline = Instant::now() + DRAIN_LIMIT;
    loop {
        let (done, total) = progress.get();
        if done == total {
            return;
        }
        for twin in running.iter_mut() {
            twin.assert_alive();
        }
        assert!(
            Instant::now() < deadline,
            "input not consumed after {DRAIN_LIMIT:?}: {done} of {total}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One `sxfleet process` subprocess; killed (SIGKILL) when dropped.
pub struct Twin {
    child: Child,
    log: PathBuf,
}

impl Twin {
    pub fn start(config: &PipelineConfig, instance: &str, run: usize) -> Self {
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{}twin-{instance}-{run}.log",
            config.topics.prefix()
        ));
        let child = Command::new(env!("CARGO_BIN_EXE_sxfleet"))
            .args(["--kafka", &config.kafka.bootstrap])
            .args(["--topic-prefix", config.topics.prefix()])
            .args(["--partitions", &config.partitions.to_string()])
            .args(["--instance", instance])
            .arg("process")
            .env("RUST_LOG", "warn,sxfleet_runtime=info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Self { child, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails the test (with the log) when the process has exited on its own.
    pub fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "sxfleet process exited with {status}; log {}:\n{}",
                self.log.display(),
                self.log()
            );
        }
    }

    /// Waits until the process logs its `nth` partition assignment.
    pub fn wait_assigned(&mut self, nth: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.log().matches("partitions assigned").count() < nth {
            self.assert_alive();
            assert!(
                Instant::now() < deadline,
                "no partition assignment after 60 s; log {}:\n{}",
                self.log.display(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        self.kill();
    }
}
