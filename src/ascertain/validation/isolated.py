"""One validator in a fresh Python process, so that the modules it loaded are exactly the ones it needed.

`python3 -m ascertain.validation.isolated REQUEST.json RESULT.json` (run by registry.run_isolated): runs the
validator named in the request with the request's context, printing its progress on stderr, and writes its
outcome and the files behind it (registry.record_files) into RESULT.json, or {"error": ...} when it raised.
An audit hook notes the package files opened while it runs (labels, json, demo data read as data); the modules
are read from sys.modules at its end. The files are hashed as they were when the run started.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path


def main(argv: list[str]) -> int:
    request, result = Path(argv[0]), Path(argv[1])
    req = json.loads(request.read_text(encoding="utf-8"))
    from ascertain.validation.registry import CHECKOUT_BENCHMARKS, PACKAGE, Context, record_files, relative

    watched = (str(PACKAGE) + os.sep, str(CHECKOUT_BENCHMARKS) + os.sep)
    opened: set[str] = set()

    def on_open(event: str, args: tuple) -> None:
        if event == "open" and isinstance(args[0], str) and args[0].startswith(watched):
            opened.add(args[0])

    # as the run starts: a file edited while it runs is recorded as it was when the validator began
    before = {rel: path for path in PACKAGE.rglob("*")
              if path.is_file() and path.suffix not in (".so", ".pyd") and (rel := relative(path))}
    snapshot = {rel: path.read_bytes() for rel, path in before.items()}
    sys.addaudithook(on_open)
    from ascertain.validation import entries  # noqa: F401  (registers the validators)
    from ascertain.validation.registry import REGISTRY

    v = REGISTRY[req["name"]]
    ctx = Context(Path(req["work"]), req["quick"], req["seed"], req["scancode"], req["processes"],
                  lambda m: print(m, file=sys.stderr, flush=True))
    try:
        o = v.run(ctx)
    except Exception as e:  # noqa: BLE001  (reported to the parent, which keeps the earlier figures)
        result.write_text(json.dumps({"error": f"{type(e).__name__}: {e}"}), encoding="utf-8")
        raise
    loaded = [m.__file__ for m in list(sys.modules.values()) if isinstance(getattr(m, "__file__", None), str)]
    record = _as_started(record_files(v, loaded, opened), snapshot, v.name)
    result.write_text(json.dumps({"outcome": asdict(o), "record": record}, default=str), encoding="utf-8")
    return 0


def _as_started(record: dict, snapshot: dict[str, bytes], name: str) -> dict:
    """The record's digests taken from the bytes read when the run started (files outside the package, e.g. a
    checkout's benchmarks/, as they are now)."""
    import hashlib

    from ascertain.validation.registry import entry_digest

    files = {}
    for rel, sha in record["files"].items():
        data = snapshot.get(rel)
        if data is None:
            files[rel] = sha
        elif rel == record["entry_module"]:
            files[rel] = entry_digest(data.decode("utf-8"), name)
        else:
            files[rel] = hashlib.sha256(data).hexdigest()
    return {**record, "files": files}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
