"""The peers `ascertain validate` measures beside ascertain: copydetect (PyPI) and Dolos (npm library)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from ascertain.validation.cases import Case

DOLOS_DIR = Path(__file__).resolve().parents[3] / "benchmarks" / "dolos"


MAX_PEER_ERROR_SHARE = 0.01  # a peer failing on more pairs than this is reported as not run, not scored


class PeerFailed(RuntimeError):
    """A peer failed on too many pairs for its figures to mean anything."""


def copydetect_scores(cases: list[Case]) -> tuple[dict[str, float], list[str]]:
    """Share of the work's fingerprints found in the copy, copydetect's defaults (noise 25, guarantee 30);
    and the errors (a pair copydetect fails on scores 0, a miss, and is listed)."""
    from copydetect import CodeFingerprint, compare_files

    cache: dict[str, CodeFingerprint] = {}

    def fp(path: str):
        if path not in cache:
            cache[path] = CodeFingerprint(path, 25, 6, language="python")
        return cache[path]

    out: dict[str, float] = {}
    errors: list[str] = []
    for c in cases:
        try:
            _, (sim_work, _), _ = compare_files(fp(c.work), fp(c.copy))
            out[c.id] = float(sim_work)
        except Exception as e:  # noqa: BLE001 (a peer's failure on one pair is a miss, recorded)
            out[c.id] = 0.0
            errors.append(f"{c.id}: {type(e).__name__}: {e}")
        if not c.label:
            cache.pop(c.copy, None)
    return out, _checked("copydetect", errors, len(cases))


def _checked(tool: str, errors: list[str], n: int) -> list[str]:
    if len(errors) > MAX_PEER_ERROR_SHARE * n:
        raise PeerFailed(f"{tool} failed on {len(errors):,} of {n:,} pairs (first: {errors[0]})")
    return errors


def dolos_available(dolos_dir: Path = DOLOS_DIR) -> str | None:
    """None if Dolos can run, else why not."""
    if not shutil.which("node"):
        return "node is not installed"
    if not (dolos_dir / "node_modules" / "@dodona" / "dolos-lib").is_dir():
        return f"@dodona/dolos-lib is not installed: run `npm ci` in {dolos_dir}"
    return None


def dolos_scores(cases: list[Case], dolos_dir: Path = DOLOS_DIR) -> tuple[dict[str, float], list[str]]:
    """Dolos' containment of the work in the copy (leftCovered/leftTotal), one analysis per pair; and the
    errors. Paths are passed absolute: the Node script runs in `dolos_dir`."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for c in cases:
            fh.write(json.dumps({"id": c.id, "work": str(Path(c.work).resolve()),
                                 "copy": str(Path(c.copy).resolve())}) + "\n")
        pairs = fh.name
    try:
        proc = subprocess.run(["node", str(dolos_dir / "pairs.mjs"), pairs, "python"], capture_output=True,
                              text=True, cwd=dolos_dir, check=False)
    finally:
        Path(pairs).unlink(missing_ok=True)
    if proc.returncode:
        raise PeerFailed(f"Dolos exited with {proc.returncode}: {proc.stderr.strip()[-500:]}")
    out = {c.id: 0.0 for c in cases}
    seen: set[str] = set()
    errors: list[str] = []
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        seen.add(r["id"])
        if "error" in r:
            errors.append(f"{r['id']}: {r['error']}")
        else:
            out[r["id"]] = float(r["containment"])
    errors += [f"{c.id}: no result" for c in cases if c.id not in seen]
    return out, _checked("Dolos", errors, len(cases))
