//! The `tailor` binary as a user runs it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn tailor(data_dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tailor").unwrap();
    cmd.arg("--data-dir").arg(data_dir).env_remove("TAILOR_DATA_DIR").env_remove("TAILOR_CONFIG");
    cmd
}

fn myntra_dir() -> PathBuf {
    std::env::var_os("TAILOR_MYNTRA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/myntra"))
}

#[test]
fn ingests_the_myntra_catalogue_and_reports_counts() {
    let dir = TempDir::new().unwrap();
    tailor(dir.path())
        .args(["ingest", "--format", "myntra"])
        .arg(myntra_dir())
        .assert()
        .success()
        .stdout(predicate::str::contains("read 44446, ingested 44439 (new 44439, updated 0, unchanged 0), rejected 7"))
        .stdout(predicate::str::contains("with image 11882, text only 32557, image only 0"))
        .stderr(predicate::str::contains("styles.csv:3679: rejected: item 42878 has neither text"));
    tailor(dir.path())
        .args(["catalog", "stats"])
        .assert()
        .success()
        .stdout(predicate::str::contains("44439 items loaded in"))
        .stdout(predicate::str::contains("text and image      11882"));
    tailor(dir.path())
        .args(["catalog", "show", "15970"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"title\": \"Turtle Check Men Navy Blue Shirt\""));
}

#[test]
fn reports_every_bad_row_and_keeps_the_good_ones() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("shop.csv");
    std::fs::write(&file, "id,title,price\n1,Shirt,10\n2,Hat,ten\n3,,\n4,Scarf,5,extra\n5,Belt,7\n").unwrap();
    tailor(&dir.path().join("var"))
        .args(["ingest", "--format", "generic"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("read 5, ingested 2 (new 2, updated 0, unchanged 0), rejected 3"))
        .stderr(predicate::str::contains("shop.csv:3: rejected: price \"ten\" is not a number"))
        .stderr(predicate::str::contains("shop.csv:4: rejected: item 3 has neither text"))
        .stderr(predicate::str::contains("shop.csv:5: rejected: row has 4 fields, the header has 3"));
}

#[test]
fn unusable_input_fails_with_a_message_naming_the_problem() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("articles.csv");
    std::fs::write(&file, "foo,bar\n1,2\n").unwrap();
    tailor(dir.path())
        .args(["ingest", "--format", "hm"])
        .arg(&file)
        .assert()
        .failure()
        .stderr(predicate::str::contains("not the hm layout: missing column(s) article_id, prod_name"));
    tailor(dir.path())
        .args(["ingest", "--format", "myntra", "/nonexistent/styles.csv"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot read /nonexistent"));
    tailor(dir.path())
        .args(["ingest", "--format", "zara", "x.csv"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("invalid value 'zara'"));
    tailor(dir.path())
        .args(["catalog", "show", "404"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no item 404"));
    tailor(dir.path())
        .arg("serve")
        .env("TAILOR_SERVE__ADMIN_TOKEN", "hunter2")
        .assert()
        .failure()
        .stderr(predicate::str::contains("serve.admin_token is 7 characters long; use at least 24"));
}

#[test]
fn data_dir_comes_from_the_config_file_when_no_flag_is_given() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("tailor.toml"), "data_dir = \"from-config\"\n").unwrap();
    std::fs::write(dir.path().join("shop.csv"), "id,title\n1,Shirt\n").unwrap();
    Command::cargo_bin("tailor")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("TAILOR_DATA_DIR")
        .args(["ingest", "--format", "generic", "shop.csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("from-config/catalog.redb: 1 items"));
}

#[test]
fn the_consumer_says_what_it_is_missing() {
    let dir = TempDir::new().unwrap();
    tailor(dir.path())
        .args(["stream", "run", "--until-caught-up"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("loading item vectors from"))
        .stderr(predicate::str::contains("embeddings/items.safetensors"));
}

#[test]
fn the_consumer_reads_the_embedded_log_to_its_end() {
    let dir = TempDir::new().unwrap();
    let items = tailor_testkit::synthetic::item_vectors(20, 8, 1);
    let items_path = dir.path().join("items.safetensors");
    items.save(&items_path).unwrap();
    {
        let topics = [tailor_log::TopicConfig::new("tailor.interactions", 6)];
        let log =
            tailor_log::EmbeddedLog::open(&dir.path().join("log"), &topics, tailor_log::DEFAULT_SEGMENT_BYTES).unwrap();
        let events = tailor_testkit::synthetic::interactions(500, 30, 20, 2);
        tailor_log::EventLog::append(&log, "tailor.interactions", tailor_testkit::synthetic::messages(&events))
            .unwrap();
    }
    tailor(dir.path())
        .args(["stream", "run", "--until-caught-up", "--item-vectors"])
        .arg(&items_path)
        .assert()
        .success()
        .stdout(predicate::str::contains("no snapshot at"))
        .stdout(predicate::str::contains("applied 500, redelivered 0, resent 0, dead-lettered 0"))
        .stdout(predicate::str::contains("30 visitors"));
    // A second run resumes from the snapshot and has nothing left to do.
    tailor(dir.path())
        .args(["stream", "run", "--until-caught-up", "--item-vectors"])
        .arg(&items_path)
        .assert()
        .success()
        .stdout(predicate::str::contains("resuming from"))
        .stdout(predicate::str::contains("applied 0,"));
}

#[test]
fn log_check_shows_damage_and_repair_keeps_what_still_reads() {
    let dir = TempDir::new().unwrap();
    let topics = [tailor_log::TopicConfig::new("tailor.interactions", 1)];
    {
        let log =
            tailor_log::EmbeddedLog::open(&dir.path().join("log"), &topics, tailor_log::DEFAULT_SEGMENT_BYTES).unwrap();
        let events: Vec<_> = (0..40).map(|i| tailor_log::Message::new("visitor", format!("event-{i:03}"))).collect();
        tailor_log::EventLog::append(&log, "tailor.interactions", events).unwrap();
    }
    let segment = dir.path().join("log/tailor.interactions/partition-0/00000000000000000000.log");
    let mut bytes = std::fs::read(&segment).unwrap();
    let record_len = bytes.len() / 40;
    bytes[5 * record_len + 12] ^= 0xff;
    std::fs::write(&segment, bytes).unwrap();

    tailor(dir.path())
        .args(["log", "check"])
        .assert()
        .failure()
        .stdout(predicate::str::contains("tailor.interactions/partition-0: 1 segments, 5 records"))
        .stdout(predicate::str::contains("a valid record (offset 6) follows"))
        .stderr(predicate::str::contains("1 damaged segments"));
    tailor(dir.path())
        .args(["log", "repair"])
        .assert()
        .success()
        .stdout(predicate::str::contains("kept 39 records"))
        .stdout(predicate::str::contains("offsets 5..=5 (1 records)"))
        .stdout(predicate::str::contains("00000000000000000000.log.damaged"));
    tailor(dir.path())
        .args(["log", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("39 records"))
        .stdout(predicate::str::contains("no damage"));
}
