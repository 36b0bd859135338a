"""`ascertain cmi validate`: ascertain's CMI detectors against ScanCode Toolkit on the same real files.

Both tools scan one sample of the installed packages' files in the same run. Taking ScanCode as the
reference, agreement is measured over (file, SPDX license id) pairs and over (file, copyright holder)
pairs; every disagreement is listed for review; files/s of each tool are measured on the same machine
with the same number of processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ascertain.cmi.sample import build_sample
from ascertain.cmi.scan import scan_paths
from ascertain.cmi.spdx_ids import keys
from ascertain.errors import AscertainError

# ScanCode ids that say "some license is referenced here" rather than naming one; not identifications.
UNIDENTIFIED = re.compile(r"^LicenseRef-scancode-(?:unknown|free-unknown|other-permissive|other-copyleft"
                          r"|proprietary-license|warranty-disclaimer|generic-)")
_HOLDER_NORM = re.compile(r"[^\w]+")
_AND_OTHERS = re.compile(r"\s+(?:and|&)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}(?:contributors|authors|others)\b.*$")
_HOLDER_SUFFIX = re.compile(r"\b(?:inc|ltd|llc|gmbh|corp|corporation|co|and|contributors|the)\b")


@dataclass
class Agreement:
    both: int = 0
    only_ascertain: int = 0
    only_scancode: int = 0

    @property
    def precision(self) -> float:
        return self.both / (self.both + self.only_ascertain) if self.both + self.only_ascertain else 1.0

    @property
    def recall(self) -> float:
        return self.both / (self.both + self.only_scancode) if self.both + self.only_scancode else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"both": self.both, "only_ascertain": self.only_ascertain, "only_scancode": self.only_scancode,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def norm_holder(h: str) -> str:
    """Holders compared without case, accents, punctuation, legal-form words and "and contributors" tails
    ("Foo, Inc. and contributors" = "foo"; ScanCode transliterates "Stüvel" to "Stuvel")."""
    h = "".join(ch for ch in unicodedata.normalize("NFKD", h) if not unicodedata.combining(ch))
    h = _AND_OTHERS.sub("", h.casefold())
    return " ".join(_HOLDER_SUFFIX.sub(" ", _HOLDER_NORM.sub(" ", h)).split())


def ours(result: dict) -> tuple[set[str], set[str]]:
    ids = {k for lic in result.get("licenses", []) if lic.get("valid", True) for k in keys(lic["spdx"])}
    holders = {norm_holder(h) for c in result.get("copyrights", []) for h in c["holders"]} - {""}
    return ids, holders


def theirs(entry: dict) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    for det in entry.get("license_detections") or []:
        expr = det.get("license_expression_spdx") or ""
        ids.update(k for k in keys(expr) if not UNIDENTIFIED.match(k))
    holders = {norm_holder(h["holder"]) for h in entry.get("holders") or []} - {""}
    return ids, holders


def run_scancode(scancode: str, sample: Path, out: Path, processes: int) -> float:
    exe = shutil.which(scancode) or scancode
    if not Path(exe).exists():
        raise AscertainError(scancode, "ScanCode Toolkit not found",
                             'install it, e.g. `python3 -m venv sc && sc/bin/pip install scancode-toolkit==32.5.0 '
                             '"pluggy<1.7"`, and pass --scancode sc/bin/scancode')
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "--license", "--copyright", "--processes", str(processes), "--timeout", "120",
                           "--strip-root", "--quiet", "--json", str(out), str(sample)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1) or not out.exists():  # 1: some files had scan errors (listed in JSON)
        raise AscertainError(scancode, f"ScanCode failed (exit {proc.returncode}): {proc.stderr[-400:]}",
                             "run the same scancode command by hand to see why")
    return seconds


def compare(sample: Path, asc: list[dict], sc: dict) -> dict:
    """Agreement tables and the disagreements, file by file."""
    prefix = str(sample).rstrip("/") + "/"
    ours_by = {r["path"].removeprefix(prefix): r for r in asc if "skipped" not in r}
    lic, hold = Agreement(), Agreement()
    disagreements = []
    scanned = 0
    for entry in sc.get("files", []):
        if entry.get("type") != "file":
            continue
        rel = entry["path"]
        rel = rel.split("/", 1)[1] if rel.startswith(sample.name + "/") else rel
        if rel not in ours_by:
            continue
        scanned += 1
        a_ids, a_holders = ours(ours_by[rel])
        s_ids, s_holders = theirs(entry)
        for agg, a, s, what in ((lic, a_ids, s_ids, "license"), (hold, a_holders, s_holders, "holder")):
            agg.both += len(a & s)
            agg.only_ascertain += len(a - s)
            agg.only_scancode += len(s - a)
            if a != s:
                disagreements.append({"file": rel, "kind": what, "only_ascertain": sorted(a - s),
                                      "only_scancode": sorted(s - a)})
    return {"files_compared": scanned, "licenses": lic.as_dict(), "holders": hold.as_dict(),
            "disagreements": disagreements}


def validate(n_files: int, scancode: str, work: Path, processes: int, reuse_scancode: bool = False) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    sample = work / "sample"
    files = build_sample(sample, n_files)
    digest = hashlib.sha256("\n".join(sorted(map(str, files))).encode()).hexdigest()[:16]
    t0 = time.perf_counter()
    asc = list(scan_paths([str(sample)], processes))
    asc_seconds = time.perf_counter() - t0
    sc_json = work / f"scancode-{digest}.json"
    if reuse_scancode and sc_json.exists():
        sc_seconds = json.loads(sc_json.with_suffix(".seconds").read_text())
        reused = True
    else:
        sc_seconds = run_scancode(scancode, sample, sc_json, processes)
        sc_json.with_suffix(".seconds").write_text(json.dumps(sc_seconds))
        reused = False
    sc = json.loads(sc_json.read_text())
    result = compare(sample, asc, sc)
    headers = sc.get("headers") or [{}]
    result.update({
        "sample_files": len(files), "sample_digest": digest, "processes": processes,
        "scancode_version": headers[0].get("tool_version", "?"), "scancode_reused": reused,
        "ascertain_seconds": round(asc_seconds, 2), "scancode_seconds": round(sc_seconds, 2),
        "ascertain_files_per_s": round(len(files) / asc_seconds, 2),
        "scancode_files_per_s": round(len(files) / sc_seconds, 3),
        "speed_ratio": round(sc_seconds / asc_seconds, 1),
    })
    (work / "cmi-validation.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    return result


def markdown(r: dict, command: str, max_rows: int = 60) -> str:
    lines = [
        "## CMI detection against ScanCode Toolkit", "",
        f"Command: `{command}`", "",
        f"Sample: {r['sample_files']:,} real files from this machine's installed packages and standard library "
        f"(sources, LICENSE/COPYING/NOTICE, package metadata; at most 1/40 of the sample per package), "
        f"sample digest `{r['sample_digest']}`; ScanCode {r['scancode_version']} as the reference; "
        f"{r['processes']} process(es) each.",
        "",
        "| measure | both | only ascertain | only ScanCode | precision | recall | F1 (agreement) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, key in (("SPDX license ids (file, id)", "licenses"), ("copyright holders (file, holder)", "holders")):
        a = r[key]
        lines.append(f"| {name} | {a['both']} | {a['only_ascertain']} | {a['only_scancode']} | "
                     f"{a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} |")
    lines += [
        "",
        "| tool | seconds (incl. start-up) | files/s |", "|---|---|---|",
        f"| ascertain | {r['ascertain_seconds']} | {r['ascertain_files_per_s']} |",
        f"| ScanCode {r['scancode_version']} | {r['scancode_seconds']}"
        f"{' (reused from the run on the same sample)' if r['scancode_reused'] else ''} | "
        f"{r['scancode_files_per_s']} |",
        "", f"ascertain is **{r['speed_ratio']}×** ScanCode's files/s.", "",
        f"Disagreements ({len(r['disagreements'])} file/kind pairs; the first {max_rows} here, all in "
        "`cmi-validation.json` in the work folder):", "",
        "| file | kind | only ascertain | only ScanCode |", "|---|---|---|---|",
    ]
    for d in r["disagreements"][:max_rows]:
        lines.append(f"| {d['file']} | {d['kind']} | {', '.join(d['only_ascertain'])} | "
                     f"{', '.join(d['only_scancode'])} |")
    return "\n".join(lines) + "\n"


def _holder_agreement(labels: dict[str, set[str]], found: dict[str, set[str]]) -> tuple[Agreement, list[dict]]:
    agg, misses = Agreement(), []
    for rel, want in labels.items():
        got = found.get(rel, set())
        agg.both += len(got & want)
        agg.only_ascertain += len(got - want)  # here: found but not labelled (false positives)
        agg.only_scancode += len(want - got)  # here: labelled but not found (misses)
        if got != want:
            misses.append({"file": rel, "missed": sorted(want - got), "extra": sorted(got - want)})
    return agg, misses


def folder_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()[:16]


def _scancode_cached(scancode: str, folder: Path, work: Path, processes: int, reuse: bool, name: str,
                     per_file) -> tuple[dict[str, object], dict]:
    """ScanCode's reading (`per_file(entry)`) of every file in folder, by name, cached by each file's sha256 in
    work/scancode-NAME-cache.json; with `reuse`, only files not in the cache are scanned (the sets grow with the
    machine's packages). The cache keeps ScanCode's seconds, file count and version over its runs."""
    cache_path = work / f"scancode-{name}-cache.json"
    cache = json.loads(cache_path.read_text(encoding="utf-8")) if reuse and cache_path.exists() else {
        "files": {}, "seconds": 0.0, "scanned": 0, "version": "?"}
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}
    todo = sorted(n for n, d in digests.items() if d not in cache["files"])
    if todo:
        pending = work / f"scancode-{name}-pending"
        if pending.exists():
            shutil.rmtree(pending)
        pending.mkdir(parents=True)
        for n in todo:
            shutil.copyfile(folder / n, pending / n)
        out = work / f"scancode-{name}-pending.json"
        cache["seconds"] += run_scancode(scancode, pending, out, processes)
        cache["scanned"] += len(todo)
        sc = json.loads(out.read_text(encoding="utf-8"))
        cache["version"] = (sc.get("headers") or [{}])[0].get("tool_version", "?")
        for e in sc.get("files", []):
            if e.get("type") == "file" and Path(e["path"]).name in digests:
                cache["files"][digests[Path(e["path"]).name]] = per_file(e)
        cache_path.write_text(json.dumps(cache, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    return {n: cache["files"].get(d, []) for n, d in digests.items()}, cache


def scancode_holders(scancode: str, folder: Path, work: Path, processes: int, reuse: bool
                     ) -> tuple[dict[str, set[str]], dict]:
    """ScanCode's holders of every file in folder (the hard set), normalized as `theirs` does."""
    found, cache = _scancode_cached(scancode, folder, work, processes, reuse, "hard",
                                    lambda e: sorted(theirs(e)[1]))
    return {n: set(v) for n, v in found.items()}, cache


def validate_hard(scancode: str | None, work: Path, processes: int, split: str = "held",
                  reuse_scancode: bool = False) -> dict:
    """Holder precision/recall of ascertain (and ScanCode, unless `scancode` is None) on the hard set's split."""
    from ascertain.cmi.hard_set import build

    hard = work / "hard"
    labels_all = build(hard)
    cases = {rel: meta for rel, meta in labels_all["cases"].items() if meta["split"] == split}
    labels = {rel: {norm_holder(h) for h in meta["holders"]} - {""} for rel, meta in cases.items()}
    folder = hard / split
    load = round(os.getloadavg()[0], 1)
    t0 = time.perf_counter()
    asc = list(scan_paths([str(folder)], processes))
    asc_seconds = time.perf_counter() - t0
    ours_found = {f"{split}/{Path(r['path']).name}": ours(r)[1] for r in asc if "skipped" not in r}
    result: dict = {"split": split, "cases": len(cases), "seed": labels_all["seed"],
                    "set_digest": folder_digest(folder), "dep5_files": labels_all["dep5_files"],
                    "labelled_files_missing": labels_all["missing"], "processes": processes,
                    "ascertain_seconds": round(asc_seconds, 2), "load_average": load,
                    "kinds": {k: sum(1 for m in cases.values() if m["kind"] == k)
                              for k in sorted({m["kind"] for m in cases.values()})}}
    tools = {"ascertain": ours_found}
    if scancode:
        found, cache = scancode_holders(scancode, folder, work, processes, reuse_scancode)
        tools["ScanCode"] = {f"{split}/{name}": holders for name, holders in found.items()}
        result.update({"scancode_version": cache["version"], "scancode_seconds": round(cache["seconds"], 2),
                       "scancode_files_scanned": cache["scanned"],
                       "scancode_files_per_s": round(cache["scanned"] / max(cache["seconds"], 1e-9), 3)})
    for tool, found in tools.items():
        agg, misses = _holder_agreement(labels, found)
        by_kind = {}
        for kind in result["kinds"]:
            sub = {rel: want for rel, want in labels.items() if cases[rel]["kind"] == kind}
            by_kind[kind] = _holder_agreement(sub, found)[0].as_dict()
        result[tool] = {"holders": agg.as_dict(), "by_kind": by_kind, "misses": misses}
    (work / f"cmi-hard-{split}.json").write_text(json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False),
                                                 encoding="utf-8")
    return result


def markdown_hard(r: dict, command: str, max_rows: int = 40) -> str:
    tools = [t for t in ("ascertain", "ScanCode") if t in r]
    lines = [
        "## CMI copyright holders on hard, real notices", "",
        f"Command: `{command}`", "",
        f"Set: {r['cases']:,} cases in the `{r['split']}` split (seed `{r['seed']}`, files digest `{r['set_digest']}`; "
        f"DEP-5 cases from {r['dep5_files']} distinct copyright files with a stanza the rule labels, on this machine "
        "(the set grows with the installed packages); "
        "split by package, so no package has cases on both sides; the detector was tuned on the other split only). "
        "Kinds: "
        + ", ".join(f"{k} {n}" for k, n in r["kinds"].items()) + ".", "",
        "Sources and labels: *DEP-5* kinds are the `Copyright:` fields of this machine's machine-readable "
        "`/usr/share/doc/*/copyright` files (at most 3 stanzas per distinct file); each line's holder is labelled by "
        "a fixed rule in `cmi/hard_set.py` (marks, years, e-mail and URLs, \"All rights reserved\" and what follows "
        "it, \"see AUTHORS\" and a trailing parenthesised note other than an acronym removed; stanzas with a "
        "line the rule cannot label surely are left out), never by the scanner; the field is written as it stands "
        "(`dep5-field`: holders on continuation lines) or, with seeded variation, as a C comment, Python comments, "
        "an HTML footer (holders in links, `&copy;`, `<br>`), an ASCII-art box, or all in capitals; marks are added "
        "where the field has none, and one line in five puts the holder before the years. *kernel-header*, "
        "*c-header*, *html* and *js* are real files of installed packages with several notices, labelled by hand "
        "(`cmi/hard_labels.json`: path, sha256, holders). A holder is compared as in `cmi validate` (case, accents, "
        "punctuation, legal-form words and \"and contributors\" tails ignored)."
        + (f" Left out (missing or changed on this machine): {len(r['labelled_files_missing'])}."
           if r["labelled_files_missing"] else ""), "",
        "| tool | labelled holders | found & labelled | found, not labelled | missed | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in tools:
        a = r[t]["holders"]
        lines.append(f"| {t}{' ' + r.get('scancode_version', '') if t == 'ScanCode' else ''} | "
                     f"{a['both'] + a['only_scancode']} | {a['both']} | {a['only_ascertain']} | {a['only_scancode']} | "
                     f"{a['precision']:.3f} | {a['recall']:.3f} | **{a['f1']:.3f}** |")
    lines += ["", "F1 by kind:", "", "| kind | cases | " + " | ".join(tools) + " |",
              "|---|---|" + "---|" * len(tools)]
    for kind, n in r["kinds"].items():
        lines.append(f"| {kind} | {n} | " + " | ".join(f"{r[t]['by_kind'][kind]['f1']:.3f}" for t in tools) + " |")
    secs = f"ascertain {r['ascertain_seconds']} s for {r['cases']} files"
    if "ScanCode" in r:
        secs += (f"; ScanCode {r['scancode_seconds']} s for the {r['scancode_files_scanned']} files it scanned "
                 f"({r['scancode_files_per_s']} files/s; its results are cached by file content)")
    lines += ["", f"Time ({r['processes']} process(es) each, incl. start-up; load average {r['load_average']} on "
              f"{os.cpu_count()} cores when ascertain ran): {secs}.", "",
              f"ascertain's differences from the labels ({len(r['ascertain']['misses'])} files; the first "
              f"{max_rows}; all in `cmi-hard-{r['split']}.json`):", "",
              "| file | labelled, not found | found, not labelled |", "|---|---|---|"]
    for m in r["ascertain"]["misses"][:max_rows]:
        lines.append(f"| {m['file']} | {', '.join(m['missed'])} | {', '.join(m['extra'])} |")
    return "\n".join(lines) + "\n"


# ---- real notices (cmi/real_set.py) -------------------------------------------------------------------

_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")


def norm_real(h: str) -> str:
    """A holder of the real set compared as in `norm_holder`, and without a trailing parenthesised note
    (an acronym, a nickname, a handle: "Daniel Leidert (dale)" = "Daniel Leidert")."""
    return norm_holder(_TRAILING_NOTE.sub("", h))


def _bootstrap_by_project(per_file: list[tuple[str, int, int, int]], rounds: int = 2000, seed: int = 20261207
                          ) -> dict[str, list[float]]:
    """95 % percentile intervals of precision, recall and F1, resampling projects (the unit of the split)
    with replacement; per_file holds (project, found & labelled, found not labelled, labelled not found)."""
    import numpy as np

    projects = sorted({p for p, *_ in per_file})
    sums = np.zeros((len(projects), 3))
    index = {p: i for i, p in enumerate(projects)}
    for p, tp, fp, fn in per_file:
        sums[index[p]] += (tp, fp, fn)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(projects), size=(rounds, len(projects)))
    tp, fp, fn = (sums[draws, k].sum(axis=1) for k in range(3))
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(tp + fp > 0, tp / (tp + fp), 1.0)
        rec = np.where(tp + fn > 0, tp / (tp + fn), 1.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    return {k: [round(float(np.percentile(v, 2.5)), 4), round(float(np.percentile(v, 97.5)), 4)]
            for k, v in (("precision", prec), ("recall", rec), ("f1", f1))}


def _score(cases: dict, found: dict[str, set[str]]) -> dict:
    agg, misses, per_file, by_source = Agreement(), [], [], {}
    for name, c in cases.items():
        want = {norm_real(h) for h in c.holders} - {""}
        got = found.get(name, set())
        tp, fp, fn = len(got & want), len(got - want), len(want - got)
        agg.both += tp
        agg.only_ascertain += fp
        agg.only_scancode += fn
        src = by_source.setdefault(c.source, Agreement())
        src.both += tp
        src.only_ascertain += fp
        src.only_scancode += fn
        per_file.append((c.project, tp, fp, fn))
        if got != want:
            misses.append({"file": name, "project": c.project, "missed": sorted(want - got),
                           "extra": sorted(got - want)})
    out = agg.as_dict()
    out["ci95"] = _bootstrap_by_project(per_file)
    return {"holders": out, "by_source": {k: v.as_dict() for k, v in sorted(by_source.items())}, "misses": misses}


def scancode_raw_holders(scancode: str, folder: Path, work: Path, processes: int, reuse: bool
                         ) -> tuple[dict[str, list[str]], dict]:
    """ScanCode's holders, as it writes them, of every file in folder (the real notices)."""
    return _scancode_cached(scancode, folder, work, processes, reuse, "real",
                            lambda e: [h["holder"] for h in e.get("holders") or []])


def validate_real(scancode: str | None, work: Path, processes: int, split: str = "test",
                  reuse_scancode: bool = False) -> dict:
    """Holder precision/recall (with 95 % intervals, resampling projects) of ascertain, and of ScanCode unless
    `scancode` is None, on one split of the labelled real notices (`cmi/real_set.py`)."""
    from ascertain.cmi import real_set

    if split not in ("test", "tune"):
        raise AscertainError("--split", f"unknown split {split!r} of the real notices", "choose test or tune")
    folder = work / f"real-{split}"
    cases = real_set.materialize(folder, split)
    t0 = time.perf_counter()
    asc = list(scan_paths([str(folder)], processes))
    asc_seconds = time.perf_counter() - t0
    found = {Path(r["path"]).name: {norm_real(h) for c in r.get("copyrights", []) for h in c["holders"]} - {""}
             for r in asc if "skipped" not in r}
    sources: dict[str, int] = {}
    for c in cases.values():
        sources[c.source] = sources.get(c.source, 0) + 1
    result: dict = {"split": split, "files": len(cases), "projects": len({c.project for c in cases.values()}),
                    "labelled_holders": sum(len({norm_real(h) for h in c.holders} - {""}) for c in cases.values()),
                    "files_without_holder": sum(1 for c in cases.values() if not c.holders),
                    "sources": dict(sorted(sources.items())), "set_digest": folder_digest(folder),
                    "processes": processes, "ascertain_seconds": round(asc_seconds, 2)}
    result["ascertain"] = _score(cases, found)
    if scancode:
        raw, cache = scancode_raw_holders(scancode, folder, work, processes, reuse_scancode)
        theirs_found = {name: {norm_real(h) for h in hs} - {""} for name, hs in raw.items()}
        result["ScanCode"] = _score(cases, theirs_found)
        result["scancode_version"] = cache["version"]
    (work / f"cmi-real-{split}.json").write_text(json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False),
                                                 encoding="utf-8")
    return result


def markdown_real(r: dict, command: str, max_rows: int = 40) -> str:
    tools = [t for t in ("ascertain", "ScanCode") if t in r]
    lines = [
        "## CMI copyright holders on real notices of many projects (held-out)", "",
        f"Command: `{command}`", "",
        f"Set: {r['files']} real files from {r['projects']} projects in the `{r['split']}` split "
        f"({r['labelled_holders']} labelled holders; {r['files_without_holder']} files whose marks are no "
        f"notice; sources: " + ", ".join(f"{k} {n}" for k, n in r["sources"].items()) + f"; digest "
        f"`{r['set_digest']}`). The set (`cmi/real_labels.json`, built by `cmi/real_set.py`) holds files of this "
        "machine's Python packages (sources and LICENSE files), Debian `/usr/share/doc/*/copyright` files (DEP-5 "
        "and free-form), C headers, npm packages, HTML pages and minified scripts, a few per project and "
        "deduplicated by content; each file's excerpt (every line with a copyright mark, the line before it and "
        "up to three after it) is what both tools scan. Holders were labelled by hand. The split is by project "
        "(a fixed hash of its name); the detector was tuned on the `tune` split only. A holder is compared "
        "without case, accents, punctuation, legal-form words, \"and contributors\" tails and a trailing "
        "parenthesised note. Intervals: 95 % percentile bootstrap over projects (2,000 resamples).", "",
        "| tool | labelled | found & labelled | found, not labelled | missed | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in tools:
        a = r[t]["holders"]
        ci = a["ci95"]
        lines.append(f"| {t}{' ' + r.get('scancode_version', '') if t == 'ScanCode' else ''} | "
                     f"{a['both'] + a['only_scancode']} | {a['both']} | {a['only_ascertain']} | {a['only_scancode']} | "
                     f"{a['precision']:.3f} [{ci['precision'][0]:.3f}, {ci['precision'][1]:.3f}] | "
                     f"{a['recall']:.3f} [{ci['recall'][0]:.3f}, {ci['recall'][1]:.3f}] | "
                     f"**{a['f1']:.3f}** [{ci['f1'][0]:.3f}, {ci['f1'][1]:.3f}] |")
    lines += ["", "F1 by source:", "", "| source | files | " + " | ".join(tools) + " |",
              "|---|---|" + "---|" * len(tools)]
    for src, n in r["sources"].items():
        lines.append(f"| {src} | {n} | " + " | ".join(
            f"{r[t]['by_source'].get(src, {}).get('f1', 1.0):.3f}" for t in tools) + " |")
    lines += ["", f"ascertain's differences from the labels ({len(r['ascertain']['misses'])} files; the first "
              f"{max_rows}; all in `cmi-real-{r['split']}.json`):", "",
              "| file | project | labelled, not found | found, not labelled |", "|---|---|---|---|"]
    for m in r["ascertain"]["misses"][:max_rows]:
        lines.append(f"| {m['file']} | {m['project']} | {', '.join(m['missed'])} | {', '.join(m['extra'])} |")
    return "\n".join(lines) + "\n"
