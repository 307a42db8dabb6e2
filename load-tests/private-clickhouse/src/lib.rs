//! A private ClickHouse server, started and stopped through `dev/services clickhouse-private`:
//! the same binary and configuration as the shared one, with its own data folder and ports, so
//! it can be stopped (outage tests) or measured alone (benchmarks) without disturbing anyone.
//! Used by the root outage test (`tests/sink_outage.rs`) and by `sink_bench`; a crate of its
//! own so that `sxfleet`'s tests need not depend on the benchmarks.
//!
//! Layout (one module):
//! - [`PrivateClickHouse`]: start, stop, resume and drop (stop and delete) a server.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// A running private server; stopped, and its folder deleted, when dropped.
#[derive(Debug)]
pub struct PrivateClickHouse {
    dir: PathBuf,
    /// HTTP port on 127.0.0.1.
    pub http: u16,
    /// Native protocol port on 127.0.0.1.
    pub tcp: u16,
}

impl PrivateClickHouse {
    /// Starts a server keeping everything under `dir` (created if needed) on two free ports,
    /// and waits until it answers.
    ///
    /// # Errors
    /// When no port is free or the script fails (its output names the cause).
    pub fn start(dir: &Path) -> anyhow::Result<Self> {
        let server = Self {
            dir: dir.to_owned(),
            http: free_port()?,
            tcp: free_port()?,
        };
        server.run("start")?;
        Ok(server)
    }

    /// The HTTP endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http)
    }

    /// The server's pid (for its CPU time), from the script's pid file.
    ///
    /// # Errors
    /// When the pid file is missing or does not hold a number.
    pub fn pid(&self) -> anyhow::Result<u32> {
        let file = self.dir.join("clickhouse.pid");
        let text = std::fs::read_to_string(&file).with_context(|| file.display().to_string())?;
        Ok(text.trim().parse()?)
    }

    /// Stops the server (SIGTERM, waiting for it to exit); data stays for [`Self::resume`].
    ///
    /// # Errors
    /// When the script fails.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.run("stop")
    }

    /// Starts the stopped server again on the same ports and data.
    ///
    /// # Errors
    /// When the script fails.
    pub fn resume(&self) -> anyhow::Result<()> {
        self.run("start")
    }

    fn run(&self, action: &str) -> anyhow::Result<()> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dev/services");
        let status = Command::new(script)
            .args(["clickhouse-private", action])
            .arg(&self.dir)
            .args([self.http.to_string(), self.tcp.to_string()])
            .status()
            .with_context(|| format!("running {script}"))?;
        if !status.success() {
            bail!("dev/services clickhouse-private {action}: {status}");
        }
        Ok(())
    }
}

impl Drop for PrivateClickHouse {
    fn drop(&mut self) {
        if let Err(err) = self.stop() {
            eprintln!(
                "stopping the private clickhouse in {}: {err:#}",
                self.dir.display()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    Ok(listener.local_addr()?.port())
}
