//! A real Kafka-protocol broker for tests: tansu, which `scripts/setup` installs. Each broker gets
//! its own port and working directory; `restart` brings it back on the same port and storage, as
//! an operator restarting a broker would.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TANSU_VERSION: &str = "0.6.0";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Fast, gone on restart; its high watermarks are unreliable (see KAFKA.md).
    Memory,
    /// SQLite in the broker's directory: data and committed offsets survive a restart.
    Sqlite,
}

pub struct Broker {
    binary: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    storage: Storage,
    child: Option<Child>,
}

/// `TAILOR_TANSU`, else the copy `scripts/setup` installs, else `tansu` on the `PATH`.
pub fn tansu_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TAILOR_TANSU") {
        return PathBuf::from(path);
    }
    let tools = std::env::var_os("TAILOR_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share/tailor")));
    let installed = tools.map(|dir| dir.join(format!("tansu-{TANSU_VERSION}/bin/tansu")));
    match installed {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from("tansu"),
    }
}

impl Broker {
    /// Starts a broker and waits until it accepts connections.
    pub fn start(storage: Storage) -> Broker {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let dir = tempfile::Builder::new().prefix("tailor-broker-").tempdir().expect("a broker directory");
        let mut broker = Broker { binary: tansu_binary(), dir, port, storage, child: None };
        broker.spawn();
        broker
    }

    /// `127.0.0.1:port`, for `bootstrap.servers`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (SIGKILL: no clean shutdown) and starts it again on the same port and
    /// storage.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn spawn(&mut self) {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let engine = match self.storage {
            Storage::Memory => "memory://tansu/",
            Storage::Sqlite => "sqlite://tansu.db",
        };
        let log = File::options().create(true).append(true).open(self.dir.path().join("broker.log")).expect("log file");
        let child = Command::new(&self.binary)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url, "--storage-engine", engine])
            .current_dir(self.dir.path())
            .env_remove("LISTENER_URL")
            .env_remove("ADVERTISED_LISTENER_URL")
            .env_remove("STORAGE_ENGINE")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the tansu broker {}: {e}. Run scripts/setup (it installs tansu {TANSU_VERSION}) or set TAILOR_TANSU",
                    self.binary.display()
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("the tansu broker exited with {status}; see {}", self.dir.path().join("broker.log").display());
            }
            assert!(Instant::now() < deadline, "the tansu broker did not listen on port {} within 20 s", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}
