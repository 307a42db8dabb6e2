#!/usr/bin/env python3
"""Check sxfleet-schemas test vectors with fastavro, an independent Avro implementation.

Usage: check_fastavro.py DIR

DIR holds `manifest.json` (written by `schemas/tests/fastavro.rs`):

    {"vectors": [{"name": ..., "schema_id": 1001, "schema": "1001_FleetEvent.avsc",
                  "bytes": "<name>.bin", "expected": "<name>.json"}, ...]}

where `schema` is the expanded (self-contained) schema JSON, `bytes` a Confluent-framed message
written by the Rust codec and `expected` the value as serde JSON. For each vector the script:

1. checks the 5-byte header (magic byte 0, big-endian schema id == schema_id) and strips it;
2. decodes the rest with fastavro's `schemaless_reader` and requires every byte to be consumed;
3. compares the decoded value with the expected JSON, walking the schema:
   - timestamp-millis: fastavro returns an aware UTC datetime; it is turned back into integer
     epoch milliseconds before comparing;
   - bytes: fastavro returns `bytes`; the expected JSON holds serde's form, an array of ints;
   - enums: the symbol string on both sides; ["null", T] unions: None/null or the value;
   - records: the field sets must be equal (a field the Rust type lacks is a mismatch);
   - all other values, doubles included, must be equal and of the same JSON type (no 1 == 1.0,
     no True == 1);
4. re-encodes the expected value with fastavro's `schemaless_writer` and requires the bytes to
   equal the Rust output (maps are written in the expected JSON's key order, which is sorted,
   like the Rust `BTreeMap`).

Prints `checked N vectors` and exits 0 when all match; prints every mismatch and exits 1
otherwise; exits 2 when fastavro is not installed.
"""

import io
import json
import struct
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

try:
    import fastavro
except ImportError:
    print("fastavro is not importable by this Python: pip install fastavro", file=sys.stderr)
    sys.exit(2)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


class Mismatch(Exception):
    pass


def collect_names(schema, namespace, names):
    """Registers every named type by full name so references can be followed."""
    if isinstance(schema, list):
        for branch in schema:
            collect_names(branch, namespace, names)
    elif isinstance(schema, dict):
        kind = schema["type"]
        if kind in ("record", "enum", "fixed"):
            namespace = schema.get("namespace", namespace)
            full = schema["name"] if "." in schema["name"] else f"{namespace}.{schema['name']}"
            names[full] = (schema, namespace)
        if kind == "record":
            for field in schema["fields"]:
                collect_names(field["type"], namespace, names)
        elif kind == "array":
            collect_names(schema["items"], namespace, names)
        elif kind == "map":
            collect_names(schema["values"], namespace, names)
        elif isinstance(kind, (dict, list)):
            collect_names(kind, namespace, names)


def resolve(schema, namespace, names):
    """Follows a reference by name; returns (schema, namespace)."""
    if isinstance(schema, str) and schema not in PRIMITIVES:
        full = schema if "." in schema else f"{namespace}.{schema}"
        if full not in names:
            raise Mismatch(f"unresolved schema reference {schema!r}")
        return names[full]
    if isinstance(schema, dict) and isinstance(schema["type"], (dict, list)):
        return resolve(schema["type"], namespace, names)
    if isinstance(schema, dict) and schema["type"] in PRIMITIVES and len(schema) == 1:
        return schema["type"], namespace
    return schema, namespace


def same(expected, actual):
    """Equality that also requires the same JSON type."""
    return type(expected) is type(actual) and expected == actual


def compare(schema, namespace, names, expected, actual, path):
    """Compares a fastavro-decoded value with the expected JSON; raises Mismatch."""
    schema, namespace = resolve(schema, namespace, names)
    if isinstance(schema, list):
        if actual is None or expected is None:
            if not (actual is None and expected is None):
                raise Mismatch(f"{path}: expected {expected!r}, fastavro gave {actual!r}")
            return
        branches = [b for b in schema if b != "null"]
        if len(branches) != 1:
            raise Mismatch(f"{path}: only [\"null\", T] unions are supported")
        return compare(branches[0], namespace, names, expected, actual, path)
    kind = schema if isinstance(schema, str) else schema["type"]
    logical = schema.get("logicalType") if isinstance(schema, dict) else None
    if logical == "timestamp-millis":
        if not isinstance(actual, datetime):
            raise Mismatch(f"{path}: fastavro gave {actual!r}, not a datetime")
        actual = (actual - EPOCH) // timedelta(milliseconds=1)
    elif kind == "bytes":
        actual = list(actual)
    if kind == "record":
        if not isinstance(expected, dict) or not isinstance(actual, dict):
            raise Mismatch(f"{path}: expected a record, got {expected!r} / {actual!r}")
        fields = [f["name"] for f in schema["fields"]]
        if set(expected) != set(fields):
            raise Mismatch(f"{path}: expected JSON has fields {sorted(expected)}, schema {fields}")
        if set(actual) != set(fields):
            raise Mismatch(f"{path}: fastavro gave fields {sorted(actual)}, schema {fields}")
        for field in schema["fields"]:
            name = field["name"]
            compare(field["type"], namespace, names, expected[name], actual[name], f"{path}.{name}")
    elif kind == "array":
        if len(expected) != len(actual):
            raise Mismatch(f"{path}: expected {len(expected)} items, fastavro gave {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(schema["items"], namespace, names, e, a, f"{path}[{i}]")
    elif kind == "map":
        if set(expected) != set(actual):
            raise Mismatch(f"{path}: expected keys {sorted(expected)}, fastavro gave {sorted(actual)}")
        for key in expected:
            compare(schema["values"], namespace, names, expected[key], actual[key], f"{path}[{key!r}]")
    elif not same(expected, actual):
        raise Mismatch(f"{path}: expected {expected!r}, fastavro gave {actual!r}")


def to_writer_input(schema, namespace, names, value):
    """Turns the expected JSON into what fastavro's writer takes (bytes from int arrays)."""
    schema, namespace = resolve(schema, namespace, names)
    if value is None:
        return None
    if isinstance(schema, list):
        branch = [b for b in schema if b != "null"][0]
        return to_writer_input(branch, namespace, names, value)
    kind = schema if isinstance(schema, str) else schema["type"]
    if kind == "bytes":
        return bytes(value)
    if kind == "record":
        return {
            f["name"]: to_writer_input(f["type"], namespace, names, value[f["name"]])
            for f in schema["fields"]
        }
    if kind == "array":
        return [to_writer_input(schema["items"], namespace, names, v) for v in value]
    if kind == "map":
        return {k: to_writer_input(schema["values"], namespace, names, v) for k, v in value.items()}
    return value


def check(directory, vector):
    name = vector["name"]
    schema_json = json.loads((directory / vector["schema"]).read_text())
    message = (directory / vector["bytes"]).read_bytes()
    expected = json.loads((directory / vector["expected"]).read_text())

    if len(message) < 5:
        raise Mismatch(f"{name}: {len(message)} bytes, shorter than the 5-byte header")
    magic, schema_id = struct.unpack(">BI", message[:5])
    if magic != 0:
        raise Mismatch(f"{name}: magic byte {magic}, expected 0")
    if schema_id != vector["schema_id"]:
        raise Mismatch(f"{name}: header schema id {schema_id}, expected {vector['schema_id']}")
    body = message[5:]

    parsed = fastavro.parse_schema(schema_json)
    stream = io.BytesIO(body)
    try:
        actual = fastavro.schemaless_reader(stream, parsed)
    except Exception as error:  # noqa: BLE001 - any decode failure is a finding
        raise Mismatch(f"{name}: fastavro cannot decode: {error!r}") from error
    if stream.tell() != len(body):
        raise Mismatch(f"{name}: fastavro read {stream.tell()} of {len(body)} body bytes")

    names = {}
    collect_names(schema_json, None, names)
    compare(schema_json, None, names, expected, actual, name)

    out = io.BytesIO()
    fastavro.schemaless_writer(out, parsed, to_writer_input(schema_json, None, names, expected))
    if out.getvalue() != body:
        raise Mismatch(
            f"{name}: fastavro re-encodes the expected value to {out.getvalue().hex()}, "
            f"Rust wrote {body.hex()}"
        )


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    directory = Path(argv[1])
    manifest = json.loads((directory / "manifest.json").read_text())
    failures = []
    checked = 0
    for vector in manifest["vectors"]:
        try:
            check(directory, vector)
            checked += 1
        except Mismatch as mismatch:
            failures.append(str(mismatch))
    for failure in failures:
        print(f"MISMATCH {failure}")
    print(f"checked {checked} vectors, {len(failures)} mismatches (fastavro {fastavro.__version__})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
