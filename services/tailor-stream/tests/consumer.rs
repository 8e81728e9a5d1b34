use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tailor_core::AggregateWeights;
use tailor_events::{Event, Interaction, ItemUpsert, SingleObject, encode};
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, EventLog, Message, TopicConfig};
use tailor_stream::{
    BatchSummary, DEAD_LETTER_REASON, DEAD_LETTER_SOURCE, DeadLetterRange, ItemVectors, Source, StateLimits,
    StreamConsumer, SubjectKey, VisitorStates, load_snapshot, replay, replay_dead_letters,
};
use tailor_testkit::synthetic;

const TOPIC: &str = "interactions";
const DEAD_LETTERS: &str = "dead-letters";
const DIM: usize = 16;

fn open_log(dir: &Path) -> Arc<EmbeddedLog> {
    let topics = [TopicConfig::new(TOPIC, 3), TopicConfig::new(DEAD_LETTERS, 1)];
    Arc::new(EmbeddedLog::open(&dir.join("log"), &topics, DEFAULT_SEGMENT_BYTES).unwrap())
}

fn start(log: &Arc<EmbeddedLog>, dir: &Path, items: &Arc<ItemVectors>) -> StreamConsumer {
    start_with(log, dir, items, StateLimits::default())
}

fn start_with(log: &Arc<EmbeddedLog>, dir: &Path, items: &Arc<ItemVectors>, limits: StateLimits) -> StreamConsumer {
    let states = Arc::new(VisitorStates::with_limits(DIM, AggregateWeights::default(), limits));
    let snapshot = dir.join("visitors.snapshot");
    StreamConsumer::start(source(log), states, items.clone(), &snapshot).unwrap().0
}

fn source(log: &Arc<EmbeddedLog>) -> Source {
    Source {
        log: log.clone(),
        wire: Arc::new(SingleObject),
        topic: TOPIC.to_owned(),
        dead_letter_topic: DEAD_LETTERS.to_owned(),
    }
}

/// Polls until the consumer has reached the end of the topic.
fn catch_up(consumer: &mut StreamConsumer, log: &EmbeddedLog) -> BatchSummary {
    let end = log.end_offsets(TOPIC).unwrap();
    let mut total = BatchSummary::default();
    while consumer.positions() != end {
        let batch = consumer.poll(2048, Duration::from_secs(5)).unwrap();
        assert!(batch.records() > 0, "stalled at {:?} of {end:?}", consumer.positions());
        total += batch;
    }
    total
}

fn assert_matches_replay(states: &VisitorStates, events: &[Interaction], items: &ItemVectors) {
    let expected = replay(events, items, &AggregateWeights::default()).unwrap();
    assert_eq!(states.len(), expected.len());
    for (key, aggregate) in expected {
        // Each visitor's events reach both in the same order, so the sums agree exactly.
        assert_eq!(states.get(&key).unwrap().aggregate(), &aggregate, "{key:?}");
    }
}

#[test]
fn the_consumer_agrees_with_a_one_pass_replay() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let items = Arc::new(synthetic::item_vectors(200, DIM, 1));
    let events = synthetic::interactions(20_000, 500, 200, 2);
    for chunk in synthetic::messages(&events).chunks(1000) {
        log.append(TOPIC, chunk.to_vec()).unwrap();
    }
    let mut consumer = start(&log, dir.path(), &items);
    let summary = catch_up(&mut consumer, &log);
    assert_eq!(summary, BatchSummary { applied: 20_000, ..BatchSummary::default() });
    assert_matches_replay(consumer.states(), &events, &items);
    assert_eq!(consumer.report_lag().unwrap(), 0);
}

#[test]
fn a_flood_of_new_visitors_never_holds_more_than_the_maximum_after_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let items = Arc::new(synthetic::item_vectors(50, DIM, 1));
    // 5,000 visitors with one event each, applied in batches of 500.
    let events = synthetic::interactions(5_000, 5_000, 50, 4);
    log.append(TOPIC, synthetic::messages(&events)).unwrap();
    let limits = StateLimits { max_visitors: 1_000, ..StateLimits::default() };
    let states = Arc::new(VisitorStates::with_limits(DIM, AggregateWeights::default(), limits));
    let (mut consumer, _) =
        StreamConsumer::start(source(&log), states, items, &dir.path().join("visitors.snapshot")).unwrap();
    let mut most = 0;
    while consumer.positions() != log.end_offsets(TOPIC).unwrap() {
        consumer.poll(500, Duration::from_secs(5)).unwrap();
        most = most.max(consumer.states().len());
    }
    assert!(most <= 1_000, "{most} visitors held after a batch");
    assert!(consumer.states().len() >= 900, "{} kept", consumer.states().len());
}

#[test]
fn a_crash_after_a_snapshot_taken_mid_stream_applies_each_event_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let items = Arc::new(synthetic::item_vectors(100, DIM, 3));
    let events = synthetic::interactions(30_000, 300, 100, 4);
    log.append(TOPIC, synthetic::messages(&events)).unwrap();

    let mut consumer = start(&log, dir.path(), &items);
    // Snapshots are written by another thread while events are applied, as in the service.
    let snapshotter = consumer.snapshotter();
    let stop = Arc::new(AtomicBool::new(false));
    let snapshots = Arc::new(Mutex::new(0));
    let writer = {
        let (stop, snapshots) = (stop.clone(), snapshots.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                snapshotter.write().unwrap();
                *snapshots.lock().unwrap() += 1;
            }
        })
    };
    let mut applied = 0;
    while applied < 20_000 || *snapshots.lock().unwrap() < 3 {
        assert!(!writer.is_finished(), "the snapshot writer stopped");
        applied += consumer.poll(500, Duration::from_secs(5)).unwrap().applied;
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    drop(consumer); // The crash: everything since the last snapshot is gone from memory.

    let mut restarted = start(&log, dir.path(), &items);
    assert!(!restarted.states().is_empty(), "the snapshot was loaded");
    let summary = catch_up(&mut restarted, &log);
    assert!(summary.applied < 30_000, "only the tail is replayed: {summary:?}");
    assert_matches_replay(restarted.states(), &events, &items);
}

#[test]
fn redelivered_and_resent_events_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let items = Arc::new(synthetic::item_vectors(50, DIM, 5));
    let events = synthetic::interactions(2_000, 40, 50, 6);
    let messages = synthetic::messages(&events);
    // A producer that sent each of the first 100 events twice, retrying after a timeout.
    let retried = messages[..100].iter().flat_map(|m| [m.clone(), m.clone()]);
    log.append(TOPIC, retried.chain(messages[100..].iter().cloned()).collect()).unwrap();

    let mut consumer = start(&log, dir.path(), &items);
    let mut reader = log.reader(TOPIC, &[0, 0, 0]).unwrap();
    let mut records = Vec::new();
    while records.len() < 2_100 {
        records.extend(reader.poll(5000, Duration::from_secs(5)).unwrap());
    }
    let first = consumer.apply(&records).unwrap();
    assert_eq!(first, BatchSummary { applied: 2_000, resent: 100, ..BatchSummary::default() });
    let again = consumer.apply(&records).unwrap();
    assert_eq!(again, BatchSummary { redelivered: 2_100, ..BatchSummary::default() });
    assert_matches_replay(consumer.states(), &events, &items);
}

#[test]
fn unusable_messages_go_to_the_dead_letter_topic_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let items = Arc::new(synthetic::item_vectors(10, DIM, 7));
    let events = synthetic::interactions(50, 5, 10, 8);
    let mut unknown_item = events[0].clone();
    unknown_item.item_id = "not-in-the-catalogue".to_owned();
    let upsert = Event::ItemUpsert(Box::new(ItemUpsert { item_id: "x".to_owned(), ..ItemUpsert::default() }));
    // Once an overflow in the decay arithmetic of the visitor's state, after its earlier events.
    let mut no_time = events[0].clone();
    no_time.timestamp_ms = i64::MAX;
    let bad = vec![
        synthetic::messages(&[no_time])[0].clone(),
        Message::new(events[0].subject.as_bytes(), b"this is not an Avro message".to_vec()),
        synthetic::messages(&[unknown_item])[0].clone(),
        Message::new("someone-else", synthetic::messages(&events[..1])[0].payload.clone()),
        Message::new("x", encode(&upsert)),
    ];
    log.append(TOPIC, synthetic::messages(&events[..25])).unwrap();
    log.append(TOPIC, bad).unwrap();
    log.append(TOPIC, synthetic::messages(&events[25..])).unwrap();

    // An interaction whose item has not arrived waits for it; here not at all.
    let limits = StateLimits { max_park_ms: 0, ..StateLimits::default() };
    let mut consumer = start_with(&log, dir.path(), &items, limits);
    let summary = catch_up(&mut consumer, &log);
    assert_eq!(summary, BatchSummary { applied: 50, dead_lettered: 5, parked: 1, ..BatchSummary::default() });
    assert_matches_replay(consumer.states(), &events, &items);

    let dead = log.reader(DEAD_LETTERS, &[0]).unwrap().poll(10, Duration::from_secs(5)).unwrap();
    let mut reasons: Vec<String> = dead
        .iter()
        .map(|r| String::from_utf8(r.message.header(DEAD_LETTER_REASON).unwrap().to_vec()).unwrap())
        .collect();
    reasons.sort();
    let expected = [
        "does not start with the Avro single-object marker",
        "unknown item \"not-in-the-catalogue\"",
        "is not the event's subject",
        "an item event does not belong on topic interactions",
        "timestamp 9223372036854775807 is not a time from 1970 to 9999",
    ];
    for fragment in expected {
        assert!(reasons.iter().any(|r| r.contains(fragment)), "{fragment:?} not in {reasons:?}");
    }
    for record in &dead {
        let source = String::from_utf8(record.message.header(DEAD_LETTER_SOURCE).unwrap().to_vec()).unwrap();
        assert!(source.starts_with("interactions/"), "{source}");
    }
}

#[test]
fn interactions_that_arrive_before_their_item_wait_for_it_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let items = Arc::new(synthetic::item_vectors(10, DIM, 11));
    let events = synthetic::interactions(3, 1, 10, 12);
    let mut early = events.clone();
    early[1].item_id = "arrives-later".to_owned();
    let mut second = events[2].clone();
    (second.item_id, second.event_id) = ("never-arrives".to_owned(), "other".to_owned());
    log.append(TOPIC, synthetic::messages(&early)).unwrap();
    log.append(TOPIC, synthetic::messages(&[second])).unwrap();
    let limits = StateLimits { max_parked: 1, ..StateLimits::default() };
    let mut consumer = start_with(&log, dir.path(), &items, limits);
    let mut total = BatchSummary::default();
    while total.records() < 4 {
        total += consumer.poll(100, Duration::from_secs(5)).unwrap();
    }
    assert_eq!(total, BatchSummary { applied: 2, parked: 1, dead_lettered: 1, ..BatchSummary::default() });
    let partition = log.reader(TOPIC, &[0, 0, 0]).unwrap().poll(10, Duration::from_secs(5)).unwrap()[1].partition;
    let end = log.end_offsets(TOPIC).unwrap();
    assert!(consumer.positions()[partition as usize] < end[partition as usize], "held at the parked event");
    let dead = log.reader(DEAD_LETTERS, &[0]).unwrap().poll(10, Duration::from_secs(5)).unwrap();
    let reason = String::from_utf8(dead[0].message.header(DEAD_LETTER_REASON).unwrap().to_vec()).unwrap();
    assert!(reason.contains("1 events already wait"), "{reason}");

    // The item arrives: the parked event is applied, after its visitor's later one, and the
    // positions move to the end.
    let vector = synthetic::item_vectors(1, DIM, 13).get("item-0").unwrap().clone();
    consumer.item_vectors().insert(tailor_core::ItemId::new("arrives-later").unwrap(), vector).unwrap();
    let summary = consumer.poll(100, Duration::from_millis(50)).unwrap();
    assert_eq!(summary, BatchSummary { applied: 1, ..BatchSummary::default() });
    assert_eq!(consumer.positions(), end);
    let key = tailor_stream::SubjectKey { kind: early[0].subject_kind, id: early[0].subject.as_str().into() };
    assert_eq!(consumer.states().get(&key).unwrap().aggregate().interactions(), 3);
    // Applied once: a redelivery of the whole partition changes nothing.
    let again = log.reader(TOPIC, &[0, 0, 0]).unwrap().poll(10, Duration::from_secs(5)).unwrap();
    let summary = consumer.apply(&again).unwrap();
    assert_eq!((summary.applied, summary.redelivered), (0, 3));
}

#[test]
fn dead_letters_replayed_after_a_fix_are_applied_once_however_often_the_replay_runs() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let events = synthetic::interactions(20, 2, 10, 14);
    log.append(TOPIC, synthetic::messages(&events)).unwrap();
    // Items 5 to 9 are missing, and nothing waits for them: their events are dead-lettered.
    let missing = Arc::new(synthetic::item_vectors(5, DIM, 15));
    let limits = StateLimits { max_park_ms: 0, ..StateLimits::default() };
    let mut consumer = start_with(&log, dir.path(), &missing, limits);
    let mut first = BatchSummary::default();
    while consumer.positions() != log.end_offsets(TOPIC).unwrap() {
        first += consumer.poll(100, Duration::from_secs(5)).unwrap();
    }
    let dead = first.dead_lettered;
    assert!(dead > 0 && first.applied + dead == 20, "{first:?}");

    // The fix: the items arrive. The replay puts every dead letter back, once.
    let range = DeadLetterRange { topic: DEAD_LETTERS, partition: 0, from: 0, to: None };
    let dry = replay_dead_letters(log.as_ref(), &range, true).unwrap();
    assert_eq!(dry.replayed.get(TOPIC), Some(&dead));
    let replayed = replay_dead_letters(log.as_ref(), &range, false).unwrap();
    assert_eq!((replayed.replayed.get(TOPIC), replayed.already), (Some(&dead), 0));
    let again = replay_dead_letters(log.as_ref(), &range, false).unwrap();
    assert_eq!((again.replayed.len() as u64, again.already), (0, dead));
    let all = synthetic::item_vectors(10, DIM, 15);
    for id in (5..10).map(|i| format!("item-{i}")) {
        consumer
            .item_vectors()
            .insert(tailor_core::ItemId::new(id.as_str()).unwrap(), all.get(&id).unwrap().clone())
            .unwrap();
    }
    let mut second = BatchSummary::default();
    while consumer.positions() != log.end_offsets(TOPIC).unwrap() {
        second += consumer.poll(100, Duration::from_secs(5)).unwrap();
    }
    assert_eq!(second, BatchSummary { applied: dead, ..BatchSummary::default() });
    let applied: u64 = events
        .iter()
        .map(|e| SubjectKey { kind: e.subject_kind, id: e.subject.as_str().into() })
        .collect::<std::collections::HashSet<_>>()
        .iter()
        .map(|key| consumer.states().get(key).unwrap().aggregate().interactions())
        .sum();
    assert_eq!(applied, 20, "every event once");
}

#[test]
fn a_damaged_snapshot_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let items = Arc::new(synthetic::item_vectors(10, DIM, 9));
    log.append(TOPIC, synthetic::messages(&synthetic::interactions(100, 5, 10, 10))).unwrap();
    let mut consumer = start(&log, dir.path(), &items);
    catch_up(&mut consumer, &log);
    assert_eq!(consumer.snapshotter().write().unwrap(), 5);

    let path = dir.path().join("visitors.snapshot");
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let states = Arc::new(VisitorStates::new(DIM, AggregateWeights::default()));
    let err = StreamConsumer::start(source(&log), states, items, &path).err().unwrap();
    let message = err.to_string();
    assert!(message.contains("visitors.snapshot") && message.contains("checksum mismatch"), "{message}");
}

#[test]
fn a_snapshot_ahead_of_the_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let items = Arc::new(synthetic::item_vectors(10, DIM, 9));
    let events = synthetic::messages(&synthetic::interactions(100, 5, 10, 10));
    {
        let log = open_log(dir.path());
        log.append(TOPIC, events.clone()).unwrap();
        let mut consumer = start(&log, dir.path(), &items);
        catch_up(&mut consumer, &log);
        consumer.snapshotter().write().unwrap();
    }
    // The log is restored from before those events; new ones then reuse their offsets.
    std::fs::remove_dir_all(dir.path().join("log")).unwrap();
    let log = open_log(dir.path());
    log.append(TOPIC, events[..10].to_vec()).unwrap();
    let states = Arc::new(VisitorStates::new(DIM, AggregateWeights::default()));
    let path = dir.path().join("visitors.snapshot");
    let message = StreamConsumer::start(source(&log), states, items, &path).err().unwrap().to_string();
    assert!(message.contains("visitors.snapshot") && message.contains("past the log's end"), "{message}");
}

/// Two writers of one snapshot path (a replica and a standalone consumer misconfigured onto one
/// file, or two snapshot threads) never publish each other's half-written file.
#[test]
fn concurrent_snapshot_writers_never_publish_a_torn_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let items = Arc::new(synthetic::item_vectors(10, DIM, 11));
    log.append(TOPIC, synthetic::messages(&synthetic::interactions(400, 50, 10, 12))).unwrap();
    let mut consumer = start(&log, dir.path(), &items);
    catch_up(&mut consumer, &log);
    let path = dir.path().join("visitors.snapshot");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let snapshotter = consumer.snapshotter();
            scope.spawn(move || (0..25).for_each(|_| assert_eq!(snapshotter.write().unwrap(), 50)));
        }
        let states = VisitorStates::new(DIM, AggregateWeights::default());
        for _ in 0..50 {
            if path.exists() {
                assert!(load_snapshot(&path, &states).is_ok(), "a reader met a torn snapshot");
            }
        }
    });
    let states = VisitorStates::new(DIM, AggregateWeights::default());
    assert_eq!(load_snapshot(&path, &states).unwrap().unwrap().visitors, 50);
    let leftovers: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert!(leftovers.iter().all(|name| !name.to_string_lossy().ends_with(".partial")), "{leftovers:?}");
}
