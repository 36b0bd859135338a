"""Class ascertainment: linkage quality on a labelled set, and throughput at class scale.

    python3 benchmarks/classes.py quality [--docs]              # labelled set from real records
    python3 benchmarks/classes.py scale --regs 1000000 --works 100000 [--docs]

Quality: the works are real bibliographic-like records found on this machine (titles = the one-line
descriptions of the installed Debian packages, /var/lib/dpkg/status, and Python distributions; authors = their
maintainers / authors). 70 % of the works get a registration carrying realistic noise (typos, subtitles,
ISBN-10 for ISBN-13, "Last, First", diacritics, case and punctuation, a year off by one); distractor
registrations reuse real PyPI summaries with the same authors. Truth: each work <-> its own registration.
Compared: ascertain's linkage (identifiers, then splink) at its thresholds, and a naive exact-title join.

Scale: registrations and works generated from PyPI summaries (/work/.library/env/packages/pypi.tsv) as titles
and package names as author names (synthetic: for timing only).
"""

from __future__ import annotations

import argparse
import csv
import email.utils
import importlib.metadata as md
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ascertain.case import Case  # noqa: E402
from ascertain.classes.linkage import LinkOptions, link  # noqa: E402
from ascertain.classes.registrations import import_registrations  # noqa: E402
from ascertain.store import schema  # noqa: E402
from ascertain.works import import_manifest  # noqa: E402

SUBTITLES = (": A Practical Guide", ": Second Edition", " - Collected Papers", ": Notes and Essays", " (Revised)")
ACCENT = {"e": "é", "a": "á", "o": "ö", "u": "ü", "i": "í", "n": "ñ", "c": "ç"}
PYPI = Path("/work/.library/env/packages/pypi.tsv")


def real_records() -> list[dict]:
    """(title, author) pairs from the installed Debian packages and Python distributions."""
    recs: dict[str, dict] = {}
    text = Path("/var/lib/dpkg/status").read_text(encoding="utf-8", errors="replace")
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(" "))
        title, who = fields.get("Description", "").strip(), fields.get("Maintainer", "")
        name = email.utils.parseaddr(who)[0].strip()
        if len(title) > 8 and name:
            recs.setdefault(title, {"title": title, "author": name})
    for d in md.distributions():
        m = d.metadata
        title = (m.get("Summary") or "").strip()
        name = (m.get("Author") or email.utils.parseaddr(m.get("Author-email") or "")[0] or "").strip()
        if len(title) > 8 and name and "," not in name and len(name) < 60:
            recs.setdefault(title, {"title": title, "author": name})
    return [recs[k] for k in sorted(recs)]


def isbn13(rng: random.Random) -> str:
    digits = "978" + "".join(str(rng.randrange(10)) for _ in range(9))
    check = (10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(digits)) % 10) % 10
    return digits + str(check)


def isbn10_of(i13: str) -> str:
    core = i13[3:12]
    s = sum((10 - i) * int(c) for i, c in enumerate(core)) % 11
    check = (11 - s) % 11
    return core + ("X" if check == 10 else str(check))


def typo(rng: random.Random, s: str) -> str:
    letters = [i for i, ch in enumerate(s) if ch.isalpha()]
    if not letters:
        return s
    i = rng.choice(letters)
    op = rng.randrange(3)
    if op == 0:
        return s[:i] + s[i + 1:]
    if op == 1:
        return s[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + s[i + 1:]
    return s[:i] + s[i + 1] + s[i] + s[i + 2:] if i + 2 <= len(s) - 1 else s[:i] + s[i] + s[i:]


def last_first(name: str) -> str:
    parts = name.split()
    return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name


def accents(rng: random.Random, s: str) -> str:
    idx = [i for i, ch in enumerate(s) if ch in ACCENT]
    if not idx:
        return s
    i = rng.choice(idx)
    return s[:i] + ACCENT[s[i]] + s[i + 1:]


NOISES = ("typo", "subtitle", "isbn10", "last_first", "diacritics", "case_punct", "year_off")


def labelled_set(seed: int = 7) -> tuple[list[dict], list[dict], dict[tuple[int, int], list[str]], dict]:
    rng = random.Random(seed)
    recs = real_records()
    works, regs, truth = [], [], {}
    noise_count = dict.fromkeys(NOISES, 0)
    for i, r in enumerate(recs):
        year = rng.randrange(1990, 2025)
        w = {"id": i, "title": r["title"], "authors": r["author"], "claimant": r["author"],
             "publication_date": str(year), "isbn": isbn13(rng) if rng.random() < 0.4 else ""}
        works.append(w)
        if rng.random() >= 0.7:
            continue
        kinds = rng.sample(NOISES, rng.choice((1, 1, 2)))
        title, author, isbn, ryear = r["title"], r["author"], w["isbn"] if rng.random() < 0.5 else "", year
        for k in kinds:
            noise_count[k] += 1
            if k == "typo":
                title = typo(rng, title)
            elif k == "subtitle":
                title += rng.choice(SUBTITLES)
            elif k == "isbn10" and w["isbn"]:
                isbn = isbn10_of(w["isbn"])
            elif k == "last_first":
                author = last_first(author)
            elif k == "diacritics":
                author = accents(rng, author)
                title = accents(rng, title)
            elif k == "case_punct":
                title = title.upper().replace(",", "").replace("-", " ") + "."
            elif k == "year_off":
                ryear += rng.choice((-1, 1))
        n = len(regs)
        regs.append({"number": f"TX{n + 1:010d}", "effective_date": f"{min(ryear + 1, 2025)}-03-01", "title": title,
                     "authors": author, "claimants": author, "publication_date": str(ryear), "isbn": isbn})
        truth[(i, n)] = kinds
    hard = hard_cases(rng, recs, works, regs, truth)
    summaries = [line.split("\t")[4] for line in PYPI.read_text(encoding="utf-8").splitlines()[1:50000:37]]
    pool = [r["author"] for r in recs]
    for s in summaries:
        s = s.strip()
        if len(s) < 10:
            continue
        n = len(regs)
        regs.append({"number": f"TX{n + 1:010d}", "effective_date": "2020-01-01", "title": s,
                     "authors": rng.choice(pool), "claimants": "", "publication_date": str(rng.randrange(1990, 2025)),
                     "isbn": ""})
    noise_count.update(hard)
    return works, regs, truth, noise_count


HONORIFICS = ("Mr.", "Mrs.", "Dr.", "St.")


def hard_cases(rng: random.Random, recs: list[dict], works: list[dict], regs: list[dict],
               truth: dict) -> dict[str, int]:
    """Cases the issue-25 defects were about, added to the labelled set (kinds in `truth`):
    abbreviation decoys (work "Dr. A", the same author's registration "Dr. B": must not link), volume decoys
    (work "T, Vol. 2", registration "T, Vol. 3": must not link; "T, Volume II" for "T, Vol. 2": must), and
    group registrations (the work is one of 3–6 titles a group registration's contents list: must link)."""
    count = {"abbreviation_decoy": 0, "volume_decoy": 0, "volume_roman": 0, "group_contents": 0}
    pool = [r["title"] for r in recs]
    taken = {w["title"] for w in works}
    others = sorted({x for x in (line.split("\t")[4].strip() for line in
                                 PYPI.read_text(encoding="utf-8").splitlines()[60000:120000:7])
                     if len(x) >= 12 and x not in taken})  # titles no other work has: a group's contents

    def fresh(make) -> str:
        while True:  # work titles stay unique in the set (truth is keyed by title)
            t = make()
            if t not in taken:
                taken.add(t)
                return t

    def work(title: str, author: str, year: int) -> int:
        works.append({"id": len(works), "title": title, "authors": author, "claimant": author,
                      "publication_date": str(year), "isbn": ""})
        return len(works) - 1

    def reg(title: str, author: str, year: int, contents: str = "") -> int:
        regs.append({"number": f"TX{len(regs) + 1:010d}", "effective_date": f"{min(year + 1, 2025)}-03-01",
                     "title": title, "authors": author, "claimants": author, "publication_date": str(year),
                     "isbn": "", "contents": contents})
        return len(regs) - 1

    for _ in range(60):  # a decoy only: the work's own registration is absent
        author, year = rng.choice(recs)["author"], rng.randrange(1990, 2025)
        work(fresh(lambda: f"{rng.choice(HONORIFICS)} {rng.choice(pool)}"), author, year)
        reg(f"{rng.choice(HONORIFICS)} {rng.choice(pool)}", author, year)
        count["abbreviation_decoy"] += 1
    for k in range(60):
        t = fresh(lambda: f"{rng.choice(pool)}, Vol. 2").removesuffix(", Vol. 2")
        author, year = rng.choice(recs)["author"], rng.randrange(1990, 2025)
        w = work(f"{t}, Vol. 2", author, year)
        reg(f"{t}, Vol. 3", author, year)
        count["volume_decoy"] += 1
        if k % 2 == 0:
            truth[(w, reg(f"{t}, Volume II", author, year))] = ["volume_roman"]
            count["volume_roman"] += 1
    for k in range(60):
        author, year = rng.choice(recs)["author"], rng.randrange(1990, 2025)
        first = fresh(lambda: rng.choice(others))
        titles = [first, *rng.sample([x for x in others if x not in taken], rng.randrange(2, 6))]
        w = work(titles[0], author, year)
        listed = titles[:]
        rng.shuffle(listed)
        r = reg(f"Group registration for short online literary works, {year} (unpublished collection {k})", author,
                year, "; ".join(f"{t} ({year}-0{1 + k % 9}-15)" for t in listed))
        truth[(w, r)] = ["group_contents"]
        count["group_contents"] += 1
    return count


def write_csv(rows: list[dict], path: Path, cols: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def quality(docs: bool, seed: int = 7) -> dict:
    works, regs, kinds, noise = labelled_set(seed)
    truth = set(kinds)
    tmp = Path(tempfile.mkdtemp(prefix="linkq-"))
    write_csv(works, tmp / "works.csv", ["title", "authors", "claimant", "publication_date", "isbn"])
    write_csv(regs, tmp / "regs.csv", ["number", "effective_date", "title", "authors", "claimants",
                                       "publication_date", "isbn", "contents"])
    case = Case.init(tmp / "case")
    import_manifest(case, str(tmp / "works.csv"))
    import_registrations(case, str(tmp / "regs.csv"))
    t0 = time.perf_counter()
    summary = link(case, LinkOptions())
    seconds = time.perf_counter() - t0
    with case.store.engine.connect() as c:
        wid = {r.id: r.title for r in c.execute(select(schema.works.c.id, schema.works.c.title))}
        rid = {r.id: r.number for r in c.execute(select(schema.registrations.c.id, schema.registrations.c.number))}
        links = [(wid[r.work_id], rid[r.registration_id], r.status) for r in c.execute(
            select(schema.registration_links))]
    title_to_work = {w["title"]: w["id"] for w in works}
    assert len(title_to_work) == len(works), "work titles must be unique in the labelled set"
    num_to_reg = {r["number"]: n for n, r in enumerate(regs)}
    pred = {(title_to_work[t], num_to_reg[n]) for t, n, s in links if s == "accepted"}
    queued = {(title_to_work[t], num_to_reg[n]) for t, n, s in links if s == "review"}
    by_title: dict[str, list[int]] = {}
    for n, r in enumerate(regs):
        by_title.setdefault(r["title"], []).append(n)
    naive = {(w["id"], n) for w in works for n in by_title.get(w["title"], [])}

    def pr(p: set) -> dict:
        tp = len(p & truth)
        return {"links": len(p), "tp": tp, "precision": round(tp / len(p), 4) if p else 0.0,
                "recall": round(tp / len(truth), 4)}

    res = {"works": len(works), "registrations": len(regs), "true_pairs": len(truth), "noise": noise,
           "ascertain": pr(pred), "ascertain_with_review_accepted": pr(pred | queued),
           "review_queue": len(queued), "review_queue_true": len(queued & truth),
           "naive_exact_title": pr(naive), "model": summary["model"], "seconds": round(seconds, 2)}
    res["recall_by_noise"] = {k: {"ascertain": round(sum(1 for p, ks in kinds.items() if k in ks and p in pred)
                                                      / max(1, sum(1 for ks in kinds.values() if k in ks)), 3),
                                  "naive": round(sum(1 for p, ks in kinds.items() if k in ks and p in naive)
                                                 / max(1, sum(1 for ks in kinds.values() if k in ks)), 3)}
                              for k in (*NOISES, "volume_roman", "group_contents")}
    decoy_works = {w["id"]: kind for w in works for kind, mark in (("abbreviation_decoy", ". "),
                                                                    ("volume_decoy", ", Vol. 2"))
                   if (w["title"].startswith(HONORIFICS) and mark == ". ") or w["title"].endswith(mark)}
    res["decoys"] = {kind: {"works": sum(1 for v in decoy_works.values() if v == kind),
                            "false_links_accepted": sum(1 for (w, r) in pred - truth if decoy_works.get(w) == kind),
                            "false_links_queued": sum(1 for (w, r) in queued - truth if decoy_works.get(w) == kind),
                            "examples": sorted((works[w]["title"], regs[r]["title"]) for (w, r) in pred - truth
                                               if decoy_works.get(w) == kind)[:4]}
                     for kind in ("abbreviation_decoy", "volume_decoy")}
    res["seed"] = seed
    print(res)
    if docs:
        from ascertain.report.doc_sections import write_section

        write_section(ROOT / "docs" / "validation.md", "linkage", quality_markdown(res))
    return res


def quality_markdown(r: dict) -> str:
    a, q, n = r["ascertain"], r["ascertain_with_review_accepted"], r["naive_exact_title"]
    return (
        "## Linking works to registrations\n\n"
        f"Produced by `python3 benchmarks/classes.py quality --seed {r['seed']} --docs`. Works: "
        f"{r['works']:,} real bibliographic-like records on this machine (titles = one-line descriptions of the "
        "installed Debian packages and Python distributions, authors = their maintainers/authors). "
        f"{r['true_pairs']:,} of them get a registration with noise "
        f"({', '.join(f'{k} {v}' for k, v in r['noise'].items())}; "
        "a pair may carry two); "
        f"{r['registrations'] - r['true_pairs']:,} distractor registrations use real PyPI summaries as titles and the "
        "same authors. Truth: each work with its own registration.\n\n"
        "| method | links | correct | precision | recall |\n|---|---|---|---|---|\n"
        f"| ascertain, accepted (p ≥ 0.99 or identifier) | {a['links']:,} | {a['tp']:,} | {a['precision']:.3f} | "
        f"{a['recall']:.3f} |\n"
        f"| ascertain, accepted + review queue (p ≥ 0.5) | {q['links']:,} | {q['tp']:,} | {q['precision']:.3f} | "
        f"{q['recall']:.3f} |\n"
        f"| naive exact-title join | {n['links']:,} | {n['tp']:,} | {n['precision']:.3f} | {n['recall']:.3f} |\n\n"
        "Recall of accepted links by the noise a true pair carries:\n\n| noise | ascertain | naive |\n|---|---|---|\n"
        + "".join(f"| {k} | {v['ascertain']:.3f} | {v['naive']:.3f} |\n" for k, v in r["recall_by_noise"].items())
        + "\n"
        f"Review queue: {r['review_queue']:,} pairs, {r['review_queue_true']:,} of them true. Weights: "
        f"{r['model'].get('weights')}, prior {r['model'].get('prior_match')}; linkage took {r['seconds']} s.\n\n"
        "Decoys the title keys must keep apart (works whose own registration is absent; a link is false):\n\n"
        "| decoy | works | false links accepted | false links queued for review |\n|---|---|---|---|\n"
        + "".join(f"| {k.replace('_', ' ')} | {v['works']} | {v['false_links_accepted']} | "
                  f"{v['false_links_queued']} |\n" for k, v in r["decoys"].items()) + "\n"
        "Abbreviation decoy: work \"Dr. A\", the same author's registration \"Dr. B\" (cut at \". \" both were "
        "\"dr\"). Volume decoy: work \"T, Vol. 2\", registration \"T, Vol. 3\"; half of them also have their "
        "true registration written \"T, Volume II\" (volume_roman above). group_contents: the work is one of 3–6 "
        "titles listed in a group registration's contents (with their own publication dates).\n\n")


def _timer(timings: dict):
    def timed(name, fn, *args):
        w0, c0 = time.perf_counter(), time.process_time()
        r = fn(*args)
        timings[name] = (time.perf_counter() - w0, time.process_time() - c0)
        return r

    return timed


def scale(n_regs: int, n_works: int, docs: bool) -> dict:
    rng = random.Random(11)
    lines = PYPI.read_text(encoding="utf-8").splitlines()[1:]
    rows = [ln.split("\t") for ln in lines]
    rows = [(r[4].strip(), r[0]) for r in rows if len(r) > 4 and len(r[4].strip()) >= 10]
    rng.shuffle(rows)
    while len(rows) < n_regs:
        rows += [(f"{t} volume {len(rows)}", a) for t, a in rows[: n_regs - len(rows)]]
    tmp = Path(tempfile.mkdtemp(prefix="links-"))
    with open(tmp / "regs.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["number", "effective_date", "title", "authors", "publication_date", "isbn"])
        reg_isbns = [isbn13(rng) if i % 3 == 0 else "" for i in range(n_regs)]  # a third carry an ISBN
        for i, (t, a) in enumerate(rows[:n_regs]):
            w.writerow([f"TX{i + 1:010d}", f"{2000 + i % 25}-0{1 + i % 9}-15", t, a.replace("-", " "),
                        str(1999 + i % 25), reg_isbns[i]])
    with open(tmp / "works.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "authors", "claimant", "publication_date", "isbn"])
        chosen = rng.sample(range(n_regs), n_works)
        for i in chosen:
            t, a = rows[i]
            w.writerow([typo(rng, t) if i % 5 == 0 else t, a.replace("-", " "), a, str(1999 + i % 25),
                        reg_isbns[i] if i % 2 == 0 else ""])  # half of those ISBNs on the works list too
    probes = ([rows[i] for i in chosen[:50]], [reg_isbns[i] for i in chosen if reg_isbns[i]][:50],
              [f"TX{i + 1:010d}" for i in chosen[:50]])
    del rows, lines, reg_isbns, chosen
    # the steps run in a fresh process: its peak memory is the system's, not the generator's
    import subprocess
    import sys

    (tmp / "probes.json").write_text(json.dumps(probes))
    done = subprocess.run([sys.executable, __file__, "scale-run", "--dir", str(tmp), "--regs", str(n_regs),
                           "--works", str(n_works)] + (["--docs"] if docs else []), check=True)
    return json.loads((tmp / "result.json").read_text()) if done.returncode == 0 else {}


def scale_run(tmp: Path, n_regs: int, n_works: int, docs: bool) -> dict:
    probes = json.loads((tmp / "probes.json").read_text())
    case = Case.init(tmp / "case")
    timings: dict[str, tuple[float, float]] = {}  # step -> (wall s, CPU s of the process, all threads)
    timed = _timer(timings)

    timed("works import", import_manifest, case, str(tmp / "works.csv"))
    timed("registrations import", import_registrations, case, str(tmp / "regs.csv"))
    s = timed("link", link, case, LinkOptions())
    (tmp / "c.toml").write_text('[[class]]\nname = "registered"\n[class.criteria]\nregistered = true\n'
                                '[[class.subclass]]\nname = "eligible"\n[class.subclass.criteria]\ns412 = "unknown"\n')
    from ascertain.classes.criteria import evaluate
    from ascertain.classes.estimates import estimate
    from ascertain.classes.sampling import draw

    ev = timed("classes", evaluate, case, str(tmp / "c.toml"))
    timed("sample", draw, case, "registered", 400, 1, None, tmp / "sheet.csv")
    timed("estimate", estimate, case, "registered")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lookups = lookup_times(case, *probes)
    res = {"registrations": n_regs, "works": n_works,
           "timings_s": {k: [round(w, 1), round(c, 1)] for k, (w, c) in timings.items()},
           "peak_mb": round(peak), "links": s["identifier_links"] + s["probabilistic_accepted"],
           "review": s["review_queue"], "members": ev["counts"]["registered"]["works"], "model": s["model"]["weights"],
           "lookup_ms": lookups,
           "peak_mb_with_lookups": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    print(res)
    (tmp / "result.json").write_text(json.dumps(res))
    if docs:
        from ascertain.report.doc_sections import write_section

        write_section(ROOT / "docs" / "benchmarks.md", "classes" if n_regs == 300_000 else f"classes-{n_regs}",
                      scale_markdown(res))
    return res


def lookup_times(case: Case, works: list[tuple[str, str]], isbns: list[str], numbers: list[str]) -> dict:
    """Lookups in this (resident) process, after one warm-up of each kind: p50 and p95 in ms per kind."""
    import statistics

    from ascertain.classes.lookup import lookup

    kinds = {"title": [t for t, _ in works], "author": [a.replace("-", " ") for _, a in works], "isbn": isbns,
             "registration number": numbers}
    out = {}
    for kind, queries in kinds.items():
        if not queries:
            continue
        lookup(case, queries[0])  # warm: the process's first lookup opens the store and reads the keys
        ms = []
        for q in queries:
            t0 = time.perf_counter()
            lookup(case, q)
            ms.append((time.perf_counter() - t0) * 1000)
        ms.sort()
        out[kind] = {"n": len(ms), "p50": round(statistics.median(ms), 1),
                     "p95": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1)}
    return out


def scale_markdown(r: dict) -> str:
    t = r["timings_s"]
    return (
        "## Class ascertainment at scale\n\n"
        f"Produced by `python3 benchmarks/classes.py scale --regs {r['registrations']} --works {r['works']} --docs` "
        "(2 shared cores, SQLite store). Registrations and works are generated from PyPI summaries (titles) and "
        "package names (authors): synthetic, for timing only; every fifth work title carries a typo.\n\n"
        "| step | wall s | CPU s (process, all threads) |\n|---|---|---|\n"
        + "".join(f"| {k} | {w} | {c} |\n" for k, (w, c) in t.items()) +
        f"\n{r['registrations']:,} registrations × {r['works']:,} works: {r['links']:,} links accepted, "
        f"{r['review']:,} to review; class of {r['members']:,} members; peak memory {r['peak_mb']:,} MB "
        f"(whole process). Weights: {r['model']}.\n\n"
        + ("Lookups in the same (resident) process after the run, one warm-up each, then one per work of a "
           "sample: " + "; ".join(f"{k} p50 {v['p50']} ms, p95 {v['p95']} ms (n = {v['n']})"
                                  for k, v in r.get("lookup_ms", {}).items())
           + f"; peak memory with the lookups {r.get('peak_mb_with_lookups', 0):,} MB.\n\n"
           if r.get("lookup_ms") else ""))


def classes_at_scale(n_works: int, docs: bool) -> dict:
    """Works list import, `classes`, `sample`, labels and `estimate` on n_works metadata-only works."""
    import itertools

    from ascertain.classes.criteria import evaluate
    from ascertain.classes.estimates import estimate
    from ascertain.classes.sampling import draw, import_labels

    rng = random.Random(5)
    with open(PYPI, encoding="utf-8") as fh:
        lines = list(itertools.islice(fh, 1, n_works + 1))
    tmp = Path(tempfile.mkdtemp(prefix="classes-"))
    with open(tmp / "works.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "authors", "claimant", "claimant_role", "publication_date", "language", "work_type"])
        for i, ln in enumerate(lines[:n_works]):
            name = ln.split("\t")[0]
            w.writerow([f"{name} {i}", name, f"{name} press", rng.choice(("legal owner", "beneficial owner")),
                        str(1990 + i % 35), rng.choice(("en", "en", "de", "fr")), rng.choice(("book", "article"))])
    (tmp / "c.toml").write_text(
        '[[class]]\nname = "english"\n[class.criteria]\nlanguage = "en"\n'
        '[[class.subclass]]\nname = "books"\n[class.subclass.criteria]\nwork_type = "book"\n'
        'claimant_role = ["legal owner", "co-owner"]\n'
        '[[class]]\nname = "other"\n[class.criteria]\nlanguage = ["de", "fr"]\nregistered = false\n')
    case = Case.init(tmp / "case")
    timings: dict[str, tuple[float, float]] = {}
    timed = _timer(timings)

    timed("works import", import_manifest, case, str(tmp / "works.csv"))
    ev = timed("classes", evaluate, case, str(tmp / "c.toml"))
    smp = timed("sample (400, stratified by work_type)", draw, case, "english", 400, 3, "work_type", tmp / "s.csv")
    with open(tmp / "s.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:  # simulated reviewers: about 80 % found copied
        copied = rng.random() < 0.8
        r.update(copied="yes" if copied else "no", in_corpus="yes" if copied or rng.random() < 0.5 else "no")
    with open(tmp / "s.csv", "w", newline="", encoding="utf-8") as fh:
        wr = csv.DictWriter(fh, list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    timed("labels import", import_labels, case, str(tmp / "s.csv"))
    est = timed("estimate", estimate, case, "english")
    res = {"works": n_works, "timings_s": {k: [round(w, 1), round(c, 1)] for k, (w, c) in timings.items()},
           "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "counts": {k: v["works"] for k, v in ev["counts"].items()}, "sample": smp["allocation"],
           "copied": est["confirmed_copied"]["clopper_pearson"]}
    print(res)
    if docs:
        from ascertain.report.doc_sections import write_section

        t = res["timings_s"]
        write_section(ROOT / "docs" / "benchmarks.md", "classes-100k", (
            f"### `classes` and `estimate` on {n_works:,} works\n\n"
            f"Produced by `python3 benchmarks/classes.py classes --works {n_works} --docs`: a metadata-only works "
            "list (PyPI names as titles and owners, random language, type and role), a class file with two classes "
            "and a subclass (language, work type, claimant role, registered), a stratified sample of 400 with "
            "simulated labels.\n\n| step | wall s | CPU s (process, all threads) |\n|---|---|---|\n"
            + "".join(f"| {k} | {w} | {c} |\n" for k, (w, c) in t.items())
            + f"\nMembers: {res['counts']}; peak memory {res['peak_mb']:,} MB.\n\n"))
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("quality", "scale", "scale-run", "lookups", "classes"))
    ap.add_argument("--dir", type=Path, help="scale-run: the folder `scale` generated")
    ap.add_argument("--regs", type=int, default=1_000_000)
    ap.add_argument("--works", type=int, default=100_000)
    ap.add_argument("--docs", action="store_true")
    ap.add_argument("--seed", type=int, default=11, help="quality: the labelled set's seed (7 was used to choose "
                    "the prior for estimated weights; 11 is the reported split)")
    a = ap.parse_args()
    if a.what == "quality":
        quality(a.docs, a.seed)
    elif a.what == "scale":
        scale(a.regs, a.works, a.docs)
    elif a.what == "scale-run":
        scale_run(a.dir, a.regs, a.works, a.docs)
    elif a.what == "lookups":  # again, in a fresh resident process, on the case a `scale` run left in --dir
        print(json.dumps(lookup_times(Case.open(a.dir / "case"), *json.loads((a.dir / "probes.json").read_text())),
                         indent=1), f"peak {round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)} MB")
    else:
        classes_at_scale(a.works, a.docs)
