"""The peers `ascertain validate` measures beside ascertain: copydetect (PyPI) and Dolos (npm library)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from ascertain.validation.cases import Case

DOLOS_DIR = Path(__file__).resolve().parents[3] / "benchmarks" / "dolos"


def copydetect_scores(cases: list[Case]) -> dict[str, float]:
    """Share of the work's fingerprints found in the copy, copydetect's defaults (noise 25, guarantee 30)."""
    from copydetect import CodeFingerprint, compare_files

    cache: dict[str, CodeFingerprint] = {}

    def fp(path: str):
        if path not in cache:
            cache[path] = CodeFingerprint(path, 25, 6, language="python")
        return cache[path]

    out: dict[str, float] = {}
    for c in cases:
        try:
            _, (sim_work, _), _ = compare_files(fp(c.work), fp(c.copy))
            out[c.id] = float(sim_work)
        except Exception:  # noqa: BLE001 (a peer's failure on one file scores 0, it is counted as a miss)
            out[c.id] = 0.0
        if not c.label:
            cache.pop(c.copy, None)
    return out


def dolos_available(dolos_dir: Path = DOLOS_DIR) -> str | None:
    """None if Dolos can run, else why not."""
    if not shutil.which("node"):
        return "node is not installed"
    if not (dolos_dir / "node_modules" / "@dodona" / "dolos-lib").is_dir():
        return f"@dodona/dolos-lib is not installed: run `npm ci` in {dolos_dir}"
    return None


def dolos_scores(cases: list[Case], dolos_dir: Path = DOLOS_DIR) -> dict[str, float]:
    """Dolos' containment of the work in the copy (leftCovered/leftTotal), one analysis per pair."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for c in cases:
            fh.write(json.dumps({"id": c.id, "work": c.work, "copy": c.copy}) + "\n")
        pairs = fh.name
    try:
        proc = subprocess.run(["node", str(dolos_dir / "pairs.mjs"), pairs, "python"], capture_output=True,
                              text=True, cwd=dolos_dir, check=False)
    finally:
        Path(pairs).unlink(missing_ok=True)
    out = {c.id: 0.0 for c in cases}
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        if "error" not in r:
            out[r["id"]] = float(r["containment"])
    return out
