"""Sends a shopper's interactions to Tailor as a shop's backend would: Avro single-object
encoding with the schema from `schemas/`, keyed by the shopper's id, partitioned by murmur2.

    pip install confluent-kafka==2.14.0 fastavro==1.13.1
    python docs/examples/produce_interactions.py --brokers 127.0.0.1:9092 \\
        --user shopper-1 --like 15970 --like 37812 --add-to-cart 21379

See docs/shop-backends.md. The outside-client test (`services/tailor-cli/tests/outside_clients.rs`)
runs this file against a broker and a running `tailor serve`, and checks that the shopper's
recommendations follow the likes.
"""

import argparse
import io
import json
import pathlib
import time
import uuid

import fastavro
from confluent_kafka import Producer
from fastavro.schema import fingerprint, to_parsing_canonical_form

SCHEMA_FILE = pathlib.Path(__file__).resolve().parents[2] / "schemas" / "interaction.avsc"


def load_schema(path=SCHEMA_FILE):
    """The parsed schema and its single-object header: C3 01, then the CRC-64-AVRO fingerprint
    of the schema's Parsing Canonical Form, 8 bytes little-endian."""
    schema = fastavro.parse_schema(json.loads(pathlib.Path(path).read_text()))
    header = b"\xc3\x01" + bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))
    return schema, header


def encode(schema, header, record):
    body = io.BytesIO()
    fastavro.schemaless_writer(body, schema, record)
    return header + body.getvalue()


def interaction(user, item, kind):
    return {
        # Unique per event: a retried send reuses it, and Tailor applies the event once.
        "event_id": str(uuid.uuid4()),
        "subject": user,
        "subject_kind": "user",
        "item_id": item,
        "kind": kind,
        "value": None,
        "timestamp_ms": int(time.time() * 1000),
        "source": "app",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", required=True, help="bootstrap servers, host:port[,host:port]")
    parser.add_argument("--topic", default="tailor.interactions")
    parser.add_argument("--user", required=True, help="the shopper's id in your shop")
    parser.add_argument("--like", action="append", default=[], metavar="ITEM")
    parser.add_argument("--add-to-cart", action="append", default=[], metavar="ITEM")
    parser.add_argument("--purchase", action="append", default=[], metavar="ITEM")
    args = parser.parse_args()

    schema, header = load_schema()
    producer = Producer({
        "bootstrap.servers": args.brokers,
        # Kafka's Java client's partitioner, which Tailor's producers use too: a shopper's events
        # land on one partition, in order, whoever writes them.
        "partitioner": "murmur2_random",
        "enable.idempotence": True,
        "acks": "all",
    })
    failures = []

    def delivered(error, message):
        if error is not None:
            failures.append(error)

    for kind, items in [("like", args.like), ("add_to_cart", args.add_to_cart), ("purchase", args.purchase)]:
        for item in items:
            value = encode(schema, header, interaction(args.user, item, kind))
            producer.produce(args.topic, key=args.user.encode(), value=value, on_delivery=delivered)
    remaining = producer.flush(30)
    if failures or remaining:
        raise SystemExit(f"not delivered: {failures or f'{remaining} messages still queued'}")
    print(f"sent {len(args.like) + len(args.add_to_cart) + len(args.purchase)} events for {args.user}")


if __name__ == "__main__":
    main()
