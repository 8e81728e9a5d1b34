//! Tailor on Kafka (tansu) as a shop's backend and data team meet it, through clients nobody on
//! the team wrote: `outside_clients.py` (confluent-kafka and fastavro, in the virtual environment
//! `scripts/setup` makes) decodes every event on Tailor's topics by looking its writer schema up
//! by the specification's fingerprint, runs the README's producer example and sees a shopper's
//! recommendations follow it, changes the catalogue on the items topic (a new title-only item
//! that Tailor embeds and serves, a sold-out item, a tombstone), and reads a dead letter; then,
//! with a schema registry, checks the Confluent framing both ways against confluent-kafka's Avro
//! serializer.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tailor_testkit::broker::{Broker, Storage};

mod common;

/// confluent-kafka and fastavro, installed by `scripts/setup`.
fn python() -> PathBuf {
    common::installed_tool("outside-clients-2.14.0/bin/python")
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Reads of a user id's recommendations need it.
const ADMIN_TOKEN: &str = "the outside clients test's admin token";

/// Watches in this shop, which the Python side likes and then expects to see recommended.
const LIKED: [&str; 2] = ["i2", "i3"];

fn tailor(data_dir: &Path, broker: &Broker, topics: &str) -> Command {
    let mut cmd = common::tailor(data_dir);
    cmd.env("TAILOR_EVENTS__LOG", format!("kafka://{}", broker.address()))
        .env("TAILOR_EVENTS__KAFKA__GROUP_ID", format!("{topics}-consumer"))
        .env("TAILOR_EVENTS__INTERACTIONS__NAME", format!("{topics}.interactions"))
        .env("TAILOR_EVENTS__DEAD_LETTERS__NAME", format!("{topics}.dead-letters"))
        .env("TAILOR_EVENTS__MODELS__NAME", format!("{topics}.models"))
        .env("TAILOR_EVENTS__ITEMS__NAME", format!("{topics}.items"))
        .env("TAILOR_EVENTS__ITEM_VECTORS__NAME", format!("{topics}.item-vectors"))
        .env("TAILOR_SERVE__ADMIN_TOKEN", ADMIN_TOKEN);
    cmd
}

/// Runs `outside_clients.py` with `args`; its output goes to the test's.
fn outside_clients(broker: &Broker, url: &str, args: &[&str]) {
    let repository = repository();
    let mut command = Command::new(python());
    command
        .env("TAILOR_SERVE__ADMIN_TOKEN", ADMIN_TOKEN)
        .arg(repository.join("services/tailor-cli/tests/outside_clients.py"))
        .args(args)
        .args(["--brokers", &broker.address(), "--url", url, "--liked-type", "Watches"])
        .arg("--schemas")
        .arg(repository.join("schemas"));
    for item in LIKED {
        command.args(["--like", item]);
    }
    let status = common::run_bounded(&mut command, Duration::from_secs(180));
    assert!(status.success(), "outside_clients.py {args:?} failed: {status}");
}

#[test]
fn outside_clients_read_and_write_tailors_topics() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let broker = Broker::start(Storage::Sqlite);

    // Single-object encoding, the default: persona events and a model announcement on the topics.
    let tailor = |topics| tailor(&data, &broker, topics);
    common::train_small_shop(dir.path(), || tailor("tailor"));
    let (server, url) = common::Server::start(tailor("tailor"));
    let example = repository().join("docs/examples/produce_interactions.py");
    outside_clients(&broker, &url, &["single-object", "--example", example.to_str().unwrap()]);
    server.stop();

    // The Confluent framing, on topics of its own, with a registry the Python side serves.
    let mut registry = Command::new(python())
        .arg(repository().join("services/tailor-cli/tests/outside_clients.py"))
        .arg("registry")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(registry.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let registry_url = line.trim().strip_prefix("registry at ").expect("the registry's address").to_owned();
    // Its consumer group has a snapshot of its own, so it starts from the new topics' start.
    let mut confluent = tailor("confluent");
    confluent.env("TAILOR_EVENTS__SCHEMA_REGISTRY_URL", &registry_url);
    let (server, url) = common::Server::start(confluent);
    let result = std::panic::catch_unwind(|| {
        outside_clients(&broker, &url, &["confluent", "--registry", &registry_url, "--topic", "confluent.interactions"])
    });
    registry.kill().unwrap();
    registry.wait().unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    server.stop();
}
