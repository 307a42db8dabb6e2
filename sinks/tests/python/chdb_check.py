#!/usr/bin/env python3
"""Run the sink's SQL on a current ClickHouse engine (chDB, in process).

Usage: chdb_check.py MANIFEST

MANIFEST is JSON written by `sinks/tests/chdb_modern.rs`:

    {"steps": [{"sql": "CREATE TABLE ...", "name": null}, {"sql": "SELECT ...", "name": "q1"}]}

Steps run in order in one fresh chDB session (a temporary directory). A step with a name has
its answer (TabSeparated) kept. Prints {"name": "answer", ...} as JSON on stdout and exits 0;
on the first failing step prints the step and the error to stderr and exits 1; exits 2 when
chDB is not installed (pip install chdb-core).
"""

import json
import sys
import tempfile


def main() -> int:
    try:
        from chdb import session
    except ImportError as err:
        print(f"chDB is not installed: pip install chdb-core ({err})", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        steps = json.load(f)["steps"]
    answers = {}
    with tempfile.TemporaryDirectory(prefix="sxfleet-chdb-") as path:
        sess = session.Session(path)
        for i, step in enumerate(steps):
            try:
                result = sess.query(step["sql"], "TabSeparated")
            except Exception as err:  # chDB raises a plain RuntimeError for SQL errors
                print(f"step {i} failed: {err}\n{step['sql']}", file=sys.stderr)
                return 1
            if step.get("name"):
                answers[step["name"]] = result.bytes().decode("utf-8")
        sess.close()
    json.dump(answers, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
