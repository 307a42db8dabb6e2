"""Encodes raw messages as Avro in the Confluent wire format with fastavro, registering their
schemas in a schema registry first, as an independent producer would.

Usage: encode_avro_raw.py REGISTRY_URL MANIFEST OUT

MANIFEST (JSON): {"schemas": {"<name>": <schema object>}, "records": [{"schema": "<name>",
"value": {...}}]}. Each schema is registered with POST /subjects/<full name>/versions (the
record-name subject strategy). OUT gets {"ids": {"<name>": id}, "messages": ["<hex>", ...]}:
byte 0, the 4-byte big-endian id, then fastavro's schemaless encoding of the value.

Exit status 2 when fastavro is missing.
"""

import io
import json
import struct
import sys
import urllib.request

try:
    import fastavro
except ImportError:
    print("fastavro is not installed: pip install fastavro", file=sys.stderr)
    sys.exit(2)


def register(registry, schema):
    subject = schema.get("namespace", "") + "." + schema["name"]
    body = json.dumps({"schema": json.dumps(schema)}).encode()
    request = urllib.request.Request(
        f"{registry}/subjects/{subject}/versions",
        data=body,
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["id"]


def main():
    registry, manifest_path, out_path = sys.argv[1:4]
    with open(manifest_path) as f:
        manifest = json.load(f)
    ids, parsed = {}, {}
    for name, schema in manifest["schemas"].items():
        ids[name] = register(registry, schema)
        parsed[name] = fastavro.parse_schema(schema)
    messages = []
    for record in manifest["records"]:
        name = record["schema"]
        buffer = io.BytesIO()
        buffer.write(b"\x00" + struct.pack(">I", ids[name]))
        fastavro.schemaless_writer(buffer, parsed[name], record["value"])
        messages.append(buffer.getvalue().hex())
    with open(out_path, "w") as f:
        json.dump({"ids": ids, "messages": messages}, f)


if __name__ == "__main__":
    main()
