//! A small shop for the CLI tests: a generic CSV export next to the fixture photos of
//! `tailor-embed` (synthetic images; no catalogue data is committed).

#![allow(dead_code, reason = "each test file uses its part of these helpers")]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tailor_core::AggregateWeights;
use tailor_events::Interaction;
use tailor_stream::{ItemVectors, VisitorStates, load_snapshot, replay};

/// The `tailor` binary on `data_dir`, with nothing from the caller's environment choosing another.
pub fn tailor(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tailor"));
    cmd.arg("--data-dir").arg(data_dir).env_remove("TAILOR_DATA_DIR").env_remove("TAILOR_CONFIG");
    cmd
}

/// Runs `command`, fails the test with its output unless it succeeds, and returns its stdout.
pub fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{command:?}:\n{stdout}\n{stderr}");
    stdout.into_owned()
}

/// A tool `scripts/setup` installed under TAILOR_TOOLS_DIR (default ~/.local/share/tailor).
pub fn installed_tool(relative: &str) -> PathBuf {
    let tools = std::env::var_os("TAILOR_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").expect("HOME is set")).join(".local/share/tailor"));
    let tool = tools.join(relative);
    assert!(tool.is_file(), "{} is missing: run scripts/setup", tool.display());
    tool
}

/// The shirts-and-watches shop under `dir`, ingested, embedded, rated by 60 persona users and
/// trained, each step a `tailor` command from `tailor`.
pub fn train_small_shop(dir: &Path, tailor: impl Fn() -> Command) {
    let csv = write_shirts_and_watches(dir);
    run(tailor().args(["ingest", "--format", "generic"]).arg(&csv));
    run(tailor().arg("embed"));
    let personas = dir.join("personas.toml");
    fs::write(&personas, SHIRTS_AND_WATCHES_PERSONAS).unwrap();
    run(tailor().args(["personas", "generate", "--users", "60", "--ratings-per-user", "6", "--file"]).arg(&personas));
    run(tailor().arg("train"));
}

/// The consumer's snapshot at `snapshot` holds exactly what a one-pass replay of `events` gives:
/// every event applied once. Returns the events applied and the visitors.
pub fn assert_snapshot_is_the_replay(snapshot: &Path, items: &ItemVectors, events: &[Interaction]) -> (usize, usize) {
    let states = VisitorStates::new(items.dim(), AggregateWeights::default());
    let loaded = load_snapshot(snapshot, &states).unwrap().expect("a snapshot");
    let expected = replay(events, items, &AggregateWeights::default()).unwrap();
    assert_eq!((loaded.visitors as usize, states.len()), (expected.len(), expected.len()));
    for (key, aggregate) in &expected {
        let state = states.get(key).unwrap_or_else(|| panic!("{key:?} is missing"));
        assert_eq!(state.aggregate(), aggregate, "{key:?}");
    }
    let applied = expected.values().map(|a| a.interactions() as usize).sum();
    (applied, expected.len())
}

/// Writes `shop/shop.csv` under `dir` with `header` and `rows`, and `shop/images/{portrait,
/// landscape,square}.png` for rows to refer to; returns the CSV's path.
pub fn write_shop(dir: &Path, header: &str, rows: &[&str]) -> PathBuf {
    let shop = dir.join("shop");
    fs::create_dir_all(shop.join("images")).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tailor-embed/fixtures/images");
    for name in ["portrait", "landscape", "square"] {
        fs::copy(fixtures.join(format!("{name}.png")), shop.join(format!("images/{name}.png"))).unwrap();
    }
    let csv = shop.join("shop.csv");
    fs::write(&csv, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    csv
}

/// 40 items: navy and white shirts with photos, gold and black watches with text only (`i2`,
/// `i3`, `i6`, ... are watches), for women every third; returns the CSV's path.
pub fn write_shirts_and_watches(dir: &Path) -> PathBuf {
    let mut rows = Vec::new();
    for i in 0..40 {
        let (title, article) = match i % 4 {
            0 => ("Navy Blue Formal Shirt", "Shirts"),
            1 => ("White Cotton Shirt", "Shirts"),
            2 => ("Gold Analog Watch", "Watches"),
            _ => ("Black Digital Watch", "Watches"),
        };
        let image = if i % 4 < 2 { ["images/portrait.png", "images/square.png"][i % 2] } else { "" };
        rows.push(format!("i{i},{title} {i},{image},{article},{}", if i % 3 == 0 { "Women" } else { "Men" }));
    }
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    write_shop(dir, "id,title,image,article_type,gender", &rows)
}

/// Two personas for that shop, one per article type.
pub const SHIRTS_AND_WATCHES_PERSONAS: &str = r#"
version = 1
[[persona]]
name = "office"
description = "formal shirts for the office"
genders = ["men"]
article_types = ["shirts"]
colours = ["navy blue", "white"]
[[persona]]
name = "timekeeper"
description = "analog and digital watches"
genders = ["women", "men"]
article_types = ["watches"]
"#;

/// Starts `tailor serve` (`command`, with its data directory set) on a free port and returns it
/// with its base URL; its further output is drained so it never blocks.
pub fn start_server(mut command: Command) -> (Child, String) {
    command.arg("serve").env("TAILOR_SERVE__ADDR", "127.0.0.1:0");
    start_listening(command, "listening on ")
}

/// Starts `command`, which prints `prefix` and then its base URL when it listens, and returns it
/// with that URL; its further output is drained so it never blocks.
pub fn start_listening(mut command: Command, prefix: &str) -> (Child, String) {
    let mut server = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the process printed its address").unwrap();
        if let Some(url) = line.strip_prefix(prefix) {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (server, base)
}

/// A running `tailor serve`, killed if the test fails before stopping it.
pub struct Server(pub Child);

impl Server {
    pub fn start(command: Command) -> (Server, String) {
        let (child, url) = start_server(command);
        (Server(child), url)
    }

    /// `command` started as by [`start_listening`].
    pub fn listening(command: Command, prefix: &str) -> (Server, String) {
        let (child, url) = start_listening(command, prefix);
        (Server(child), url)
    }

    /// Stops it as an operator would, with SIGTERM, and checks that it stopped cleanly.
    pub fn stop(mut self) {
        Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status().unwrap();
        assert!(self.0.wait().unwrap().success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `command` to its end, killing it and failing the test if it takes longer than `limit`.
pub fn run_bounded(command: &mut Command, limit: std::time::Duration) -> std::process::ExitStatus {
    let mut child = command.spawn().unwrap();
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{command:?} ran past {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
