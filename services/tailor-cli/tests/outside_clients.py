"""Tailor's topics as a shop's own backend and data team see them, through clients nobody on the
Tailor team wrote: confluent-kafka (librdkafka) and fastavro, and confluent-kafka's Avro
serializer with a schema registry. `outside_clients.rs` starts the broker and `tailor serve`,
then runs one of:

    registry                 a schema registry answering as Confluent's does, from memory
    single-object ...        Tailor's default wire format
    confluent ...            the Confluent framing, with the registry above

Every check raises with what it saw; the process exits non-zero on the first failure.
"""

import argparse
import http.server
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import warnings

# confluent-kafka 2.14's registry client imports a module Authlib has deprecated, not ours to fix;
# Authlib shows its warnings always, so the filter goes in after its own.
import authlib.deprecate  # noqa: F401
import fastavro
from confluent_kafka import Consumer, Producer, TopicPartition
warnings.filterwarnings("ignore", message="The httpx module is deprecated")
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro.schema import fingerprint, to_parsing_canonical_form

# What a first screen's items say: popular now, then the catalogue's spread.
FIRST_SCREEN = ("popular in the shop right now", "a first look across the catalogue")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def get_json(url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return json.load(response)


def user_recommendations(base, user):
    """A user id's recommendations: reads by user id need the service's admin token."""
    url = f"{base}/v1/users/{user}/recommendations?k=5&kind=user"
    return get_json(url, os.environ["TAILOR_SERVE__ADMIN_TOKEN"])["items"]


def post_json(url, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


def counter(base, name, outcome, labels=""):
    """A counter from Tailor's Prometheus text, 0 when it has not been set yet."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    match = re.search(rf'^{name}\{{{labels}outcome="{outcome}"\}} (\d+)', text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def status(url):
    """The HTTP status of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def read_topic(brokers, topic):
    """Every message of `topic` from its start to its end when called: (partition, message)."""
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"outside-{uuid.uuid4()}",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        check(partitions, f"{topic} does not exist")
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        found, deadline = [], time.time() + 30
        while len(found) < sum(ends.values()) and time.time() < deadline:
            message = consumer.poll(1)
            if message is None or message.error():
                continue
            if message.offset() < ends[message.partition()]:
                found.append(message)
        check(len(found) == sum(ends.values()), f"{topic}: read {len(found)} of {sum(ends.values())} messages")
        return found
    finally:
        consumer.close()


def interaction(user, item, kind):
    return {"event_id": str(uuid.uuid4()), "subject": user, "subject_kind": "user", "item_id": item, "kind": kind,
            "value": None, "timestamp_ms": int(time.time() * 1000), "source": "app"}


def producer(brokers):
    # murmur2, as Kafka's Java client and Tailor partition by key.
    return Producer({"bootstrap.servers": brokers, "partitioner": "murmur2_random", "acks": "all"})


def wait_for(description, probe, seconds=30):
    deadline = time.time() + seconds
    while True:
        value = probe()
        if value:
            return value
        check(time.time() < deadline, f"timed out after {seconds} s waiting for {description}")
        time.sleep(0.2)


def recommendations_follow(base, subject, liked_type):
    """Waits until `subject`'s recommendations are based on what it did: most of the top five of
    the liked article type, and a reason that is not the first look."""
    seen = []

    def followed():
        items = user_recommendations(base, subject)
        seen[:] = [(item["item"]["attributes"].get("article_type"), item["reason"]) for item in items]
        types = [article_type for article_type, _ in seen]
        return items if items and seen[0][1] not in FIRST_SCREEN and types.count(liked_type) >= 3 else None

    try:
        return wait_for(f"{subject}'s recommendations to follow its {liked_type}", followed)
    except AssertionError as error:
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            stream = [line for line in response.read().decode().splitlines() if line.startswith("tailor_stream")]
        raise AssertionError(f"{error}; last seen (article type, reason): {seen}; {stream}") from None


# -- single-object encoding --------------------------------------------------------------------

def schemas_by_fingerprint(schemas_dir):
    """Every schema file, current and historical, by the fingerprint the Avro specification gives
    it: CRC-64-AVRO of the Parsing Canonical Form, as fastavro computes it."""
    known = {}
    for path in sorted(pathlib.Path(schemas_dir).rglob("*.avsc")):
        schema = fastavro.parse_schema(json.loads(path.read_text()))
        known[bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))] = (path.name, schema)
    return known


def decode_single_object(known, value):
    check(value[:2] == b"\xc3\x01", f"not single-object encoded: {value[:10].hex()}")
    entry = known.get(value[2:10])
    check(entry is not None, f"fingerprint {value[2:10].hex()} is none of the schemas' {[k.hex() for k in known]}")
    name, schema = entry
    body = io.BytesIO(value[10:])
    record = fastavro.schemaless_reader(body, schema)
    check(body.tell() == len(value) - 10, f"{name}: {len(value) - 10 - body.tell()} bytes left after the datum")
    return name, record


def single_object(args):
    known = schemas_by_fingerprint(args.schemas)
    interactions = read_topic(args.brokers, "tailor.interactions")
    check(interactions, "tailor.interactions is empty: the personas' events are missing")
    partitions_by_key, sources = {}, set()
    for message in interactions:
        name, record = decode_single_object(known, message.value())
        check(name == "interaction.avsc", f"a {name} event on tailor.interactions")
        check(message.key() == record["subject"].encode(), f"key {message.key()} is not the subject")
        partitions_by_key.setdefault(message.key(), set()).add(message.partition())
        sources.add(record["source"])
    check("persona" in sources, f"no persona events among sources {sources}")
    check(all(len(p) == 1 for p in partitions_by_key.values()), "a subject's events span partitions")
    print(f"tailor.interactions: {len(interactions)} events decoded by fingerprint, sources {sorted(sources)}")

    model_events = [decode_single_object(known, m.value()) for m in read_topic(args.brokers, "tailor.models")]
    check(all(name in ("model_published.avsc", "retrain.avsc") for name, _ in model_events), f"{model_events}")
    versions = [record["version"] for name, record in model_events if name == "model_published.avsc"]
    check(1 in versions, f"no announcement of version 1 on tailor.models: {versions}")
    print(f"tailor.models: versions {versions} announced")

    # librdkafka's murmur2 puts a subject's event where Tailor put that subject's earlier ones.
    key, (partition,) = next(iter(partitions_by_key.items()))
    (current,) = [fp for fp, (name, _) in known.items() if name == "interaction.avsc"]
    body = io.BytesIO()
    fastavro.schemaless_writer(body, known[current][1], interaction(key.decode(), args.like[0], "view"))
    sent = []
    out = producer(args.brokers)
    out.produce("tailor.interactions", key=key, value=b"\xc3\x01" + current + body.getvalue(),
                on_delivery=lambda error, message: sent.append((error, message.partition())))
    out.flush(30)
    check(sent == [(None, partition)], f"{key} went to {sent}, Tailor's events for it are on partition {partition}")
    print(f"murmur2: {key.decode()} lands on partition {partition}, as Tailor partitions it")

    # The README's producer example changes a new shopper's recommendations.
    applied = counter(args.url, "tailor_stream_events_total", "applied")
    shopper = f"backend-shopper-{uuid.uuid4().hex[:8]}"
    first = user_recommendations(args.url, shopper)
    check(first[0]["reason"] in FIRST_SCREEN, f"a new shopper starts with a first screen: {first[0]}")
    likes = [flag for item in args.like for flag in ("--like", item)]
    subprocess.run([sys.executable, args.example, "--brokers", args.brokers, "--user", shopper, *likes], check=True)
    followed = recommendations_follow(args.url, shopper, args.liked_type)
    print(f"{shopper}: after the example's likes, {[i['item']['title'] for i in followed]}: {followed[0]['reason']}")
    wait_for("the example's events to be counted as applied",
             lambda: counter(args.url, "tailor_stream_events_total", "applied") >= applied + len(args.like))
    check(counter(args.url, "tailor_stream_events_total", "dead_lettered") == 0, "events were dead-lettered")

    items(args, known, out)

    # Something Tailor cannot read goes to the dead-letter topic with the reason in a header.
    unknown = b"\xc3\x01" + bytes(8) + b"\x00"
    out.produce("tailor.interactions", key=shopper.encode(), value=unknown)
    out.flush(30)
    wait_for("the unreadable event to be dead-lettered",
             lambda: counter(args.url, "tailor_stream_events_total", "dead_lettered") == 1)
    (letter,) = read_topic(args.brokers, "tailor.dead-letters")
    headers = {name: value.decode() for name, value in letter.headers()}
    check(letter.value() == unknown, "the dead letter carries the message as it was")
    check(headers["tailor.reason"] == "unknown writer schema fingerprint 0000000000000000", f"{headers}")
    check(headers["tailor.source"].startswith("tailor.interactions/"), f"{headers}")
    print(f"dead letter: {headers}")


def single_object_value(known, schema_file, record):
    """`record` single-object encoded with the current `schema_file`, its fingerprint looked up."""
    (current,) = [fp for fp, (name, _) in known.items() if name == schema_file]
    body = io.BytesIO()
    fastavro.schemaless_writer(body, known[current][1], record)
    return b"\xc3\x01" + current + body.getvalue()


def items(args, known, out):
    """A shop backend's catalogue changes on tailor.items: a new title-only item, which Tailor's
    embedder embeds and publishes on tailor.item-vectors, and which a shopper who liked it before
    it arrived gets recommendations from; then a sold-out item and a tombstone."""
    now = int(time.time() * 1000)
    new = {"item_id": "outside-watch", "title": "Gold Analog Watch from the backend", "article_type": "Watches",
           "gender": "Women", "price": 129.0, "timestamp_ms": now}
    # The like first: it waits for its item rather than being dead-lettered.
    shopper = f"early-shopper-{uuid.uuid4().hex[:8]}"
    like = single_object_value(known, "interaction.avsc", interaction(shopper, "outside-watch", "like"))
    out.produce("tailor.interactions", key=shopper.encode(), value=like)
    out.flush(30)
    out.produce("tailor.items", key=b"outside-watch", value=single_object_value(known, "item_upsert.avsc", new))
    out.flush(30)
    wait_for("the new item to be served", lambda: status(f"{args.url}/v1/items/outside-watch") == 200)
    print("outside-watch: served at /v1/items/outside-watch")
    followed = recommendations_follow(args.url, shopper, "Watches")
    print(f"{shopper}: liked outside-watch before it existed; now {[i['item']['title'] for i in followed]}")

    def vector_published():
        messages = read_topic(args.brokers, "tailor.item-vectors")
        decoded = [decode_single_object(known, m.value()) for m in messages]
        check(all(name == "item_vector.avsc" for name, _ in decoded), f"{[name for name, _ in decoded]}")
        return [record for _, record in decoded if record["item_id"] == "outside-watch"]

    (vector,) = wait_for("the embedder's vector of outside-watch", vector_published)
    check(not vector["from_photo"] and len(vector["vector"]) > 0, f"a title-only vector: {vector['from_photo']}")
    print(f"tailor.item-vectors: outside-watch embedded from its title, {len(vector['vector'])} numbers")

    sold_out = {"item_id": "i3", "title": "Black Digital Watch 3", "article_type": "Watches", "gender": "Men",
                "timestamp_ms": now, "availability": "sold_out"}
    out.produce("tailor.items", key=b"i3", value=single_object_value(known, "item_upsert.avsc", sold_out))
    out.produce("tailor.items", key=b"outside-watch", value=None)
    out.flush(30)
    wait_for("i3 to be sold out", lambda: status(f"{args.url}/v1/items/i3") == 410)
    wait_for("the tombstone to remove outside-watch", lambda: status(f"{args.url}/v1/items/outside-watch") == 410)
    for name, record in (decode_single_object(known, m.value()) for m in read_topic(args.brokers, "tailor.items")
                         if m.value() is not None):
        check(name == "item_upsert.avsc", f"a {name} event on tailor.items")
    print("tailor.items: i3 sold out and outside-watch removed by a tombstone; neither is served")
    for topic in ("items", "item_vectors"):
        dead = counter(args.url, "tailor_catalogue_events_total", "dead_lettered", f'topic="{topic}",')
        check(dead == 0, f"{dead} item events dead-lettered from {topic}")
    check(counter(args.url, "tailor_stream_events_total", "dead_lettered") == 0, "interactions were dead-lettered")


# -- Confluent framing -------------------------------------------------------------------------

class Registry(http.server.BaseHTTPRequestHandler):
    """The parts of Confluent's schema registry API both clients use: register a schema under a
    subject (the same text gets the same id), and fetch a schema by id."""
    schemas = []
    lock = threading.Lock()

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        path = self.path.split("?")[0].split("/")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if len(path) == 4 and path[1] == "subjects" and path[3] == "versions":
            with self.lock:
                if body["schema"] not in self.schemas:
                    self.schemas.append(body["schema"])
                schema_id = self.schemas.index(body["schema"]) + 1
            return self.reply(200, {"id": schema_id})
        self.reply(404, {"error_code": 404, "message": f"no route {self.path}"})

    def do_GET(self):
        path = self.path.split("?")[0].split("/")
        if len(path) == 4 and path[1:3] == ["schemas", "ids"]:
            with self.lock:
                index = int(path[3]) - 1
                if 0 <= index < len(self.schemas):
                    return self.reply(200, {"schema": self.schemas[index]})
            return self.reply(404, {"error_code": 40403, "message": "Schema not found"})
        self.reply(404, {"error_code": 404, "message": f"no route {self.path}"})

    def log_message(self, *args):
        pass


def registry(_args):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    print(f"registry at http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def confluent(args):
    client = SchemaRegistryClient({"url": args.registry})
    schema_text = (pathlib.Path(args.schemas) / "interaction.avsc").read_text()
    serializer = AvroSerializer(client, schema_text)
    deserializer = AvroDeserializer(client)
    topic = args.topic
    context = SerializationContext(topic, MessageField.VALUE)

    # Bytes confluent-kafka's serializer writes are applied by Tailor.
    shopper = f"registry-shopper-{uuid.uuid4().hex[:8]}"
    out = producer(args.brokers)
    for item in args.like:
        out.produce(topic, key=shopper.encode(), value=serializer(interaction(shopper, item, "like"), context))
    out.flush(30)
    followed = recommendations_follow(args.url, shopper, args.liked_type)
    print(f"{shopper}: after likes framed by confluent-kafka's AvroSerializer, {followed[0]['reason']}")

    # Bytes Tailor writes are read by confluent-kafka's deserializer.
    status, session = post_json(f"{args.url}/v1/sessions", {})
    check(status in (200, 201), f"POST /v1/sessions answered {status}")
    event = {"subject": session["session_id"], "item_id": args.like[0], "kind": "like"}
    status, _ = post_json(f"{args.url}/v1/events", {"events": [event]}, session["token"])
    check(status == 202, f"POST /v1/events answered {status}")
    def with_tailors_event():
        messages = read_topic(args.brokers, topic)
        return messages if any(m.key() == session["session_id"].encode() for m in messages) else None

    messages = wait_for("Tailor's event on the topic", with_tailors_event)
    records = [deserializer(m.value(), context) for m in messages]
    subjects = {record["subject"] for record in records}
    check({shopper, session["session_id"]} <= subjects, f"subjects read back: {subjects}")
    print(f"{topic}: {len(records)} Confluent-framed events read by AvroDeserializer, Tailor's included")
    check(counter(args.url, "tailor_stream_events_total", "dead_lettered") == 0, "events were dead-lettered")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("registry").set_defaults(run=registry)
    for name, run in [("single-object", single_object), ("confluent", confluent)]:
        command = commands.add_parser(name)
        command.set_defaults(run=run)
        command.add_argument("--brokers", required=True)
        command.add_argument("--url", required=True, help="the running tailor serve")
        command.add_argument("--schemas", required=True, help="the repository's schemas/ directory")
        command.add_argument("--like", action="append", required=True, help="items of one article type")
        command.add_argument("--liked-type", required=True, help="their article type")
        command.add_argument("--example", help="the README's producer example")
        command.add_argument("--registry", help="the schema registry's URL")
        command.add_argument("--topic", default="tailor.interactions")
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
