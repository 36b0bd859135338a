"""Validation of the metadata-only image evidence: claimants' names in captions, and the 64-bit pHash threshold.

Names in captions. Real people's names and real one-line descriptions from two independent sources:
  debian  names in the Copyright lines of /usr/share/doc/*/copyright; captions: installed packages' short
          descriptions (dpkg-query)                                             -> the tune split
  pypi    names in the Author/Maintainer fields of installed distributions' METADATA; captions: their Summary
                                                                                -> the reported split
A caption is a real description alone, or with a name put in one of six forms ("DESC by NAME", "DESC, in the style
of NAME", "NAME - DESC", ...). Positives: a claimant's name as written, in another case, transliterated (the
claimant's record holds the name with its letters, the caption the ASCII form, or the reverse), or with one typo.
Negatives, the hard ones: another real person's name (preferring one that shares a first or last name with a
claimant), a claimant's first or last name alone, a claimant's last name inside a longer word. The typo limits are
tuned on the debian split only; the pypi split is reported.

Common names. Words frequent in the reported split's captions, taken as claimants' names (an artist called
"Python"): their bare mentions are negatives, "by WORD" positives; evidence is counted with and without the
corpus-rate control (match/image_metadata.py).

pHash. imagehash's pHash of real images (scikit-image's photographs, Debian's openclipart-png) against their copies
as a scraper stores them (resized to 384 px on the long side, JPEG quality 75-95) and against distinct images:
recall and false-positive rate per Hamming threshold, and the false hits to expect per work in a 700M-row dataset.
"""

from __future__ import annotations

import glob
import hashlib
import io
import random
import re
import subprocess
from collections import Counter
from pathlib import Path

from anyascii import anyascii

from ascertain.match.caption_names import NameSet, normalize
from ascertain.validation.intervals import clopper_pearson, wilson

_EXCLUDE = re.compile(r"\b(inc|ltd|llc|foundation|project|software|corporation|university|team|contributors|authors|"
                      r"developers|free|company|institute|systems|technologies|group|association|gmbh|limited|corp|"
                      r"others|and|the|of|for|labs?|org|com|net|community|maintainers?)\b", re.I)
_NAME = re.compile(r"[^\W\d_][^\W\d_'.-]+(?: [^\W\d_][^\W\d_'.-]*\.?){1,2}")
_COPYRIGHT = re.compile(r"^(?:Copyright:?|\s+)\s*(?:\(c\)|©)?\s*(?:\d{4}(?:\s*[-,–]\s*\d{2,4})*,?\s+)+(.+?)\s*"
                        r"(?:<[^>]*>)?\s*$", re.I)
FORMS = (("{d} by {n}", "by"), ("{d}, in the style of {n}", "style"), ("{n} - {d}", "mention"),
         ("{d} | {n}", "mention"), ("art by {n}: {d}", "by"), ("{d} ({n} style)", "style"))
MAX_PIXELS = 40_000_000
GRID = [(m, t) for m in (6, 8, 10, 12) for t in (12, 14, 16, 99) if t >= m]


def _person(n: str) -> str | None:
    n = re.sub(r"\s+", " ", n).strip(" .,;:")
    if not _NAME.fullmatch(n) or _EXCLUDE.search(n) or n.isupper() or len(n) > 40:
        return None
    return n


def _half(package: str) -> int:
    return hashlib.sha256(package.encode()).digest()[0] & 1


def debian_split(half: int) -> tuple[list[str], list[str]]:
    """Names in the copyright files, and the summaries, of the installed packages in one half (by a hash of the
    package's name): the two halves share no package."""
    names = set()
    for f in sorted(glob.glob("/usr/share/doc/*/copyright")):
        if _half(Path(f).parent.name) != half:
            continue
        try:
            text = Path(f).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            if (m := _COPYRIGHT.match(line)) and (n := _person(m.group(1))):
                names.add(n)
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${binary:Package}\t${binary:Summary}\n"],
                           capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return sorted(names), []
    caps = set()
    for line in r.stdout.splitlines():
        pkg, _, summary = line.partition("\t")
        if _half(pkg.split(":")[0]) == half and 15 <= len(summary.strip()) <= 200:
            caps.add(summary.strip())
    return sorted(names), sorted(caps)


def _metadata_files() -> list[Path]:
    import site
    import sys

    roots = {Path(p) for p in site.getsitepackages() + [site.getusersitepackages()] + sys.path if p}
    files = set()
    for r in roots:
        if r.is_dir():
            files.update(r.glob("*.dist-info/METADATA"))
    return sorted(files)


def pypi_names_and_captions() -> tuple[list[str], list[str]]:
    names, caps = set(), set()
    for f in _metadata_files():
        try:
            head = f.read_text(encoding="utf-8", errors="replace").split("\n\n", 1)[0]
        except OSError:
            continue
        for line in head.splitlines():
            k, _, v = line.partition(": ")
            if k in ("Author", "Maintainer"):
                for part in re.split(r",| and ", v):
                    if n := _person(part):
                        names.add(n)
            elif k in ("Author-email", "Maintainer-email"):
                for m in re.finditer(r"(?:^|,)\s*\"?([^<\",]+?)\"?\s*<", v):
                    if n := _person(m.group(1)):
                        names.add(n)
            elif k == "Summary" and 15 <= len(v.strip()) <= 200:
                caps.add(v.strip())
    return sorted(names), sorted(caps)


def sources() -> dict[str, tuple[list[str], list[str]]]:
    """debian-a (tune), debian-b and pypi (reported); a name in an earlier split is left out of the later ones."""
    out, seen = {}, set()
    for name, (names, caps) in (("debian-a", debian_split(0)), ("debian-b", debian_split(1)),
                                ("pypi", pypi_names_and_captions())):
        out[name] = ([n for n in names if n not in seen], caps)
        seen.update(names)
    return out


def _typo(name: str, rng: random.Random) -> str:
    words = name.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) >= 4]
    i = rng.choice(idx) if idx else 0
    w = words[i]
    j = rng.randrange(1, len(w) - 1) if len(w) > 2 else 0
    op = rng.choice(("delete", "substitute", "transpose", "double"))
    if op == "delete":
        w = w[:j] + w[j + 1:]
    elif op == "substitute":
        w = w[:j] + rng.choice([c for c in "aeiourstln" if c != w[j].lower()]) + w[j + 1:]
    elif op == "transpose" and j + 1 < len(w) and w[j] != w[j + 1]:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def build_cases(names: list[str], captions: list[str], seed: int, claimants: int) -> tuple[list[str], list[dict]]:
    """(claimant names as recorded, cases {caption, expect: claimant index or None, variant, context})."""
    rng = random.Random(seed)
    names, captions = names[:], captions[:]
    rng.shuffle(names)
    rng.shuffle(captions)
    claim, others = names[:claimants], names[claimants:]
    recorded = []
    for n in claim:  # a name with letters beyond ASCII: half recorded as written, half as typed in ASCII
        recorded.append(anyascii(n) if not n.isascii() and rng.random() < 0.5 else n)
    tokens = {w.lower(): i for i, n in enumerate(claim) for w in n.split(" ") if len(w) >= 3}
    sharing = [o for o in others if any(w.lower() in tokens for w in o.split(" "))]
    cap = iter(captions * 50)
    cases: list[dict] = []

    def put(name: str, expect: int | None, variant: str) -> None:
        form, ctx = rng.choice(FORMS)
        cases.append({"caption": form.format(d=next(cap), n=name), "expect": expect, "variant": variant,
                      "context": ctx})

    for i, n in enumerate(claim):
        put(recorded[i], i, "exact")
        put(rng.choice((str.lower, str.upper))(recorded[i]), i, "case")
        if not n.isascii():
            put(anyascii(n) if recorded[i] == n else n, i, "transliterated")
        if len(normalize(n)) >= 6:
            put(_typo(recorded[i], rng), i, "typo")
        words = n.split(" ")
        put(rng.choice((words[0], words[-1])), None, "first or last name alone")
        if len(words[-1]) >= 3:
            put(words[-1] + rng.choice(("ville", "son", "berg", "ian", "ish")), None, "last name inside a word")
    for o in (sharing + others)[:2 * len(claim)]:
        put(o, None, "another person" + (" sharing a name" if o in sharing else ""))
    for _ in range(2 * len(claim)):
        cases.append({"caption": next(cap), "expect": None, "variant": "caption alone", "context": ""})
    return recorded, cases


def evaluate(recorded: list[str], cases: list[dict], min_fuzzy: int, two_from: int) -> dict:
    ns = NameSet(min_fuzzy=min_fuzzy, two_edits_from=two_from)
    for i, n in enumerate(recorded):
        ns.add(n, i)
    ns.build()
    owner_of = {j: ns.owner[j] for j in range(len(ns.names))}
    hits: dict[int, list] = {}
    for h in ns.scan([c["caption"] for c in cases]):
        hits.setdefault(h.row, []).append(h)
    per_variant: dict[str, Counter] = {}
    tp = fp = fn = 0
    by_kind: dict[str, Counter] = {}
    ctx_ok = ctx_n = 0
    for r, c in enumerate(cases):
        v = per_variant.setdefault(c["variant"], Counter())
        v["n"] += 1
        found = hits.get(r, [])
        right = [h for h in found if owner_of[h.target] == c["expect"]]
        wrong = [h for h in found if owner_of[h.target] != c["expect"]]
        for h in found:
            by_kind.setdefault(h.kind, Counter())["correct" if h in right else "wrong"] += 1
        if c["expect"] is not None:
            if right:
                tp += 1
                v["found"] += 1
                ctx_n += 1
                ctx_ok += right[0].context == c["context"]
            else:
                fn += 1
        fp += len(wrong)
        v["false hits"] += len(wrong)
    return {"tp": tp, "fp": fp, "fn": fn, "per_variant": {k: dict(v) for k, v in sorted(per_variant.items())},
            "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())}, "context": {"k": ctx_ok, "n": ctx_n}}


def _f1(r: dict) -> float:
    p = r["tp"] / max(1, r["tp"] + r["fp"])
    q = r["tp"] / max(1, r["tp"] + r["fn"])
    return 2 * p * q / max(1e-9, p + q)


def common_name_control(captions: list[str], seed: int, words: int = 20) -> dict:
    """Frequent caption words as claimants' names: evidence stored with and without the corpus-rate control."""
    from ascertain.match.image_metadata import COMMON_MIN, COMMON_RATE

    rng = random.Random(seed)
    counts = Counter(w for c in captions for w in set(normalize(c).split(" ")) if len(w) >= 4 and w.isalpha())
    common = [w for w, _ in counts.most_common(words)]
    caps = captions[:]
    rng.shuffle(caps)
    planted = set(rng.sample(range(len(caps)), min(50, len(caps))))
    rows = [f"{c} by {rng.choice(common).title()}" if i in planted else c for i, c in enumerate(caps)]
    ns = NameSet()
    for i, w in enumerate(common):
        ns.add(w.title(), i)
    ns.build()
    hits = ns.scan(rows)
    seen = Counter(h.target for h in hits if h.kind != "fuzzy")
    bar = max(COMMON_MIN, COMMON_RATE * len(rows))
    flagged = {i for i, n in seen.items() if n >= bar}
    kept = [h for h in hits if not (h.target in flagged and h.context == "mention")]

    def score(hs: list) -> dict:
        good = sum(1 for h in hs if h.row in planted and h.context == "by")
        return {"stored": len(hs), "correct": good, "found_planted": len({h.row for h in hs if h.row in planted})}

    return {"names": len(common), "rows": len(rows), "planted": len(planted), "flagged": len(flagged),
            "without_control": score(hits), "with_control": score(kept)}


def phash_threshold(seed: int, works: int, pairs: int) -> dict:
    """Recall of scraper copies and false positives of distinct images, per Hamming threshold, per source."""
    import imagehash
    import numpy as np
    from PIL import Image

    from ascertain.validation.images import source_files

    rng = random.Random(seed)
    out: dict = {}
    for src in ("skimage", "openclipart"):
        files = source_files(src)
        if not files:
            out[src] = {"not_run": f"{src} images not installed"}
            continue
        rng.shuffle(files)
        hashes, copies, pixels, left_out = [], [], set(), Counter()
        for f in files:
            if len(hashes) >= works:
                break
            try:
                with Image.open(f) as im:
                    if im.width * im.height > MAX_PIXELS:
                        left_out["over 40 megapixels"] += 1
                        continue
                    im.load()
                    rgb = _flatten(im)
            except (OSError, ValueError, Image.DecompressionBombError):
                left_out["not decodable"] += 1
                continue
            px = hashlib.sha256(rgb.tobytes() + repr(rgb.size).encode()).digest()
            if px in pixels:  # the same picture twice (clip art filed under two topics) is not two images
                left_out["same pixels as another"] += 1
                continue
            pixels.add(px)
            hashes.append(int(str(imagehash.phash(rgb)), 16))
            scale = 384 / max(rgb.size)
            small = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
                               Image.Resampling.BICUBIC) if scale < 1 else rgb
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=rng.choice((75, 85, 95)))
            copies.append(int(str(imagehash.phash(Image.open(io.BytesIO(buf.getvalue())))), 16))
        h = np.array(hashes, dtype=np.uint64)
        c = np.array(copies, dtype=np.uint64)
        d_pos = np.bitwise_count(h ^ c)
        n = len(h)
        i, j = np.triu_indices(n, 1)  # every pair of distinct images, once
        if len(i) > pairs:
            keep = np.sort(np.random.default_rng(seed).choice(len(i), pairs, replace=False))
            i, j = i[keep], j[keep]
        d_neg = np.bitwise_count(h[i] ^ h[j])
        out[src] = {"works": n, "pairs": int(len(i)), "left_out": dict(sorted(left_out.items())), "per_threshold": {
            t: {"recall": {"k": int((d_pos <= t).sum()), "n": n},
                "false_positives": {"k": int((d_neg <= t).sum()), "n": int(len(i))}} for t in range(0, 13, 2)}}
    return out


def _flatten(im):
    from PIL import Image

    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    return im.convert("RGB")


def run_image_metadata_validation(seed: int = 7, claimants: int = 200, works: int = 2000, pairs: int = 2_000_000,
                                  quick: bool = False) -> dict:
    if quick:
        claimants, works, pairs = 30, 30, 2_000
    srcs = sources()
    sets = {name: build_cases(names, caps, seed, min(claimants, len(names) // 2))
            for name, (names, caps) in srcs.items() if len(names) >= 20 and len(caps) >= 50}
    r: dict = {"seed": seed, "claimants": claimants,
               "sources": {k: {"names": len(v[0]), "captions": len(v[1])} for k, v in srcs.items()}}
    if "debian-a" not in sets or len(sets) < 2:
        r["not_run"] = "too few real names or captions installed (Debian copyright files, package summaries)"
        return r
    tune = sets.pop("debian-a")
    grid = {f"{m},{t}": evaluate(*tune, m, t) for m, t in GRID}
    best = max(grid, key=lambda k: (round(_f1(grid[k]), 4), int(k.split(",")[0]), int(k.split(",")[1])))
    m, t = map(int, best.split(","))
    r["tune"] = {"split": "debian-a", "claimants": len(tune[0]),
                 "grid": {k: {"tp": v["tp"], "fp": v["fp"], "fn": v["fn"], "f1": round(_f1(v), 4)}
                          for k, v in grid.items()},
                 "chosen": {"min_fuzzy_name": m, "two_edits_from": t}, "at_chosen": grid[best]}
    r["test"] = {name: {"claimants": len(cs[0]), **evaluate(*cs, m, t)} for name, cs in sets.items()}
    r["common_names"] = common_name_control(srcs["debian-b"][1], seed)
    r["phash"] = phash_threshold(seed, works, pairs)
    tune_ph = r["phash"].get("openclipart", {}).get("per_threshold", {})
    # the smallest threshold within 0.01 of the best recall on openclipart (more bits: more false leads, little gain)
    best = max((v["recall"]["k"] / v["recall"]["n"] for v in tune_ph.values()), default=0)
    r["phash_chosen"] = next((t for t, v in tune_ph.items() if v["recall"]["k"] / v["recall"]["n"] >= best - 0.01),
                             None)
    return r


def _iv(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}]" if n else "n/a"


def markdown(r: dict, command: str) -> str:
    if "not_run" in r:
        return f"Not run: {r['not_run']}.\n"
    srcs = ", ".join(f"{k}: {v['names']:,} names, {v['captions']:,} captions" for k, v in r["sources"].items())
    ch, tc = r["tune"]["chosen"], r["tune"]["at_chosen"]
    lines = [f"Command: `{command}`", "",
             f"Names in captions: real names and captions from independent sources ({srcs}; debian-a/-b: the "
             "installed packages split in two by a hash of the package name). Typo limits tuned on debian-a only "
             f"(chosen: a name of {ch['min_fuzzy_name']}+ characters within 1 edit, {ch['two_edits_from']}+ within "
             f"2; there precision {_iv(tc['tp'], tc['tp'] + tc['fp'])}, recall {_iv(tc['tp'], tc['tp'] + tc['fn'])})"
             "; reported on the others. Intervals: Wilson 95 %.", "",
             "| split | claimants | precision | recall | context right |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, t in r["test"].items():
        lines.append(f"| {name} | {t['claimants']} | {_iv(t['tp'], t['tp'] + t['fp'])} | "
                     f"{_iv(t['tp'], t['tp'] + t['fn'])} | {_iv(t['context']['k'], t['context']['n'])} |")
    lines += ["", "| split | case | cases | found | false hits |", "| --- | --- | ---: | ---: | ---: |"]
    for name, t in r["test"].items():
        for k, v in t["per_variant"].items():
            found = _iv(v.get("found", 0), v["n"]) if k in ("exact", "case", "transliterated", "typo") else "-"
            lines.append(f"| {name} | {k} | {v['n']} | {found} | {v.get('false hits', 0)} |")
    lines += ["", "| split | match kind | hits | precision |", "| --- | --- | ---: | ---: |"]
    for name, t in r["test"].items():
        for k, v in t["by_kind"].items():
            n = v.get("correct", 0) + v.get("wrong", 0)
            lines.append(f"| {name} | {k} | {n} | {_iv(v.get('correct', 0), n)} |")
    c = r["common_names"]
    lines += ["", f"Common names: the {c['names']} most frequent words of the debian-b captions as claimants' names, "
              f"\"by WORD\" planted in {c['planted']} of {c['rows']:,} captions. Without the corpus-rate control "
              f"{c['without_control']['stored']:,} evidence rows would be stored ({c['without_control']['correct']} "
              f"right); with it ({c['flagged']} names flagged common) {c['with_control']['stored']:,} "
              f"({c['with_control']['correct']} right; {c['with_control']['found_planted']} of {c['planted']} "
              "planted found).", ""]
    lines += ["pHash (imagehash 4.3.2, 64 bits) of real images against their scraper copies (384 px on the long "
              "side, JPEG 75-95) and against pairs of distinct images of the same source (every pair, or a random "
              "sample of them). The last column is the false-positive rate times 700 million "
              "rows (COYO-700M's size): the false leads to expect per work (exact 95 % upper bound in brackets). "
              "The threshold is chosen on "
              f"openclipart (the smallest within 0.01 of the best recall: {r.get('phash_chosen')} bits; skimage "
              "reported); pixel-identical images are one image, images over 40 megapixels are left out. A "
              "64-bit hash cannot be made precise at that scale by any threshold: a pHash hit is a lead to check "
              "against the image at the row's URL, never a finding on its own.", "",
              "| source | threshold (bits) | recall of copies | false positives | false leads per work in 700M rows |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for src, s in r["phash"].items():
        if "not_run" in s:
            lines.append(f"| {src} | not run: {s['not_run']} | | | |")
            continue
        for thr, v in s["per_threshold"].items():
            fp = v["false_positives"]
            _lo, hi = clopper_pearson(fp["k"], fp["n"])
            lines.append(f"| {src} | {thr} | {_iv(v['recall']['k'], v['recall']['n'])} | "
                         f"{fp['k']} of {fp['n']:,} | {fp['k'] / fp['n'] * 7e8:,.0f} (≤ {hi * 7e8:,.0f}) |")
    lines.append("")
    return "\n".join(lines) + "\n"
