"""The validators behind every figure the report cites, one `register` entry each (see validation/registry.py).

Each entry runs an existing validator, at its documented size or (quick) at a CI size, and returns its rates as
k of n with its docs section. A new validator is one more entry here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from ascertain.validation.registry import PACKAGE, Context, Outcome, register

ENGINE = ("fingerprint/**/*", "match/**/*", "text/**/*", "index/**/*", "engine/**/*", "readers/**/*",
          "works.py", "sources.py", "store/**/*")
CMI = ("cmi/**/*", "readers/**/*")


def _rate(method: str, measure: str, k: float, n: int) -> dict:
    return {"method": method, "measure": measure, "k": int(round(k)), "n": int(n)}


def _share(method: str, measure: str, x: dict) -> dict:
    return _rate(method, measure, x["rate"] * x["n"], x["n"])


@register("copies", "copy detection: recall per transformation, false-positive rate, prose, paraphrase",
          ENGINE + ("paraphrase/**/*", "validation/run.py", "validation/cases.py", "validation/evaluate.py",
                    "validation/transforms.py", "validation/prose_transforms.py", "validation/paraphrase_cases.py",
                    "validation/peers.py"))
def copies(ctx: Context) -> Outcome:
    from ascertain.validation.paraphrase_cases import markdown as paraphrase_markdown
    from ascertain.validation.run import markdown, run_validation

    works, negatives, prose, peers = (4, 1, 3, False) if ctx.quick else (150, 20, 50, True)
    r = run_validation(ctx.work, works, negatives, ctx.seed, peers, prose, on_progress=ctx.progress,
                       processes=ctx.processes)
    command = (f"ascertain validate --works {works} --prose-works {prose} --negatives {negatives} --seed {ctx.seed}"
               f" --processes {ctx.processes}")
    auto, p_auto = r["levels"]["auto"], r["prose"]["levels"]["auto"]
    rates = [_share("copy detection (auto level), single transformations, copies of 50+ tokens", "recall",
                    auto["recall_single_50plus"]),
             _share("copy detection (auto level), combined transformations, copies of 50+ tokens", "recall",
                    auto["recall_combined_50plus"]),
             _rate("copy detection, unrelated real file pairs (code)", "false-positive rate", auto["fp"],
                   auto["negatives"]),
             _share("copy detection, prose, single transformations", "recall", p_auto["recall_single_50plus"]),
             _rate("copy detection, unrelated prose pairs", "false-positive rate", p_auto["fp"], p_auto["negatives"])]
    pp = r.get("paraphrase") or {}
    if "not_run" not in pp and pp.get("positives"):
        rates += [_rate("paraphrase signal (separate, prose)", "recall", pp["recall"] * pp["positives"],
                        pp["positives"]),
                  _rate("paraphrase signal (separate, prose)", "false-positive rate", pp["fpr"] * pp["negatives"],
                        pp["negatives"])]
    md = markdown(r, command + " --docs docs/validation.md")
    if "not_run" not in pp:
        md += "\n" + paraphrase_markdown(pp)
    return Outcome(command, rates, md, r)


@register("independent", "short works: independent creation against copies, with and without a reference",
          ENGINE + ("validation/independent.py", "validation/independent_run.py", "validation/intervals.py"))
def independent(ctx: Context) -> Outcome:
    from ascertain.validation.independent_run import markdown, run_independent

    works = 2 if ctx.quick else 20
    kwargs = {"max_tasks": 20} if ctx.quick else {}
    r = run_independent(ctx.work, seed=ctx.seed, works=works, on_progress=ctx.progress, **kwargs)
    command = f"ascertain validate --independent --works {works} --seed {ctx.seed}"
    rates = []
    sm = r.get("summary", {})
    for cond, v in (sm.get("independent") or {}).items():
        held = v.get("held-out") if isinstance(v, dict) else None
        if held and held.get("n"):
            rates.append(_share(f"short works: independent same-task pairs, {cond} (held-out)",
                                "false-positive rate", held))
    for tr, v in (sm.get("short_copies") or {}).items():
        for cond, x in v.items():
            if isinstance(x, dict) and x.get("n"):
                rates.append(_share(f"short works: copies ({tr}), {cond}", "recall", x))
    return Outcome(command, rates, markdown(r, command + " --docs docs/validation.md"), r)


def _holders_rates(label: str, a: dict) -> list[dict]:
    return [_rate(label, "precision", a["both"], a["both"] + a["only_ascertain"]),
            _rate(label, "recall", a["both"], a["both"] + a["only_scancode"])]


def _scancode_missing(ctx: Context) -> str:
    if not ctx.scancode:
        return "ScanCode Toolkit not given (--scancode or ASCERTAIN_SCANCODE)"
    if not Path(ctx.scancode).exists():
        return f"ScanCode Toolkit not found at {ctx.scancode}"
    return ""


@register("cmi", "CMI: SPDX licence ids and copyright holders against ScanCode Toolkit on installed packages", CMI)
def cmi_vs_scancode(ctx: Context) -> Outcome:
    from ascertain.cmi.validate import markdown, validate

    n = 20 if ctx.quick else 2000
    command = f"ascertain cmi validate --files {n} --processes {ctx.processes} --scancode SCANCODE"
    missing = _scancode_missing(ctx)
    if missing:
        return Outcome(command, [], f"## CMI detection against ScanCode Toolkit\n\nNot run: {missing}.\n",
                       not_run=missing)
    r = validate(n, str(ctx.scancode), ctx.work, ctx.processes, reuse_scancode=True)
    label = f"CMI: {{}} vs ScanCode ({r['sample_files']:,} files)"
    rates = [_rate(label.format("SPDX license ids"), "precision", r["licenses"]["both"],
                   r["licenses"]["both"] + r["licenses"]["only_ascertain"]),
             _rate(label.format("SPDX license ids"), "recall", r["licenses"]["both"],
                   r["licenses"]["both"] + r["licenses"]["only_scancode"]),
             *_holders_rates(label.format("copyright holders"), r["holders"])]
    return Outcome(command, rates, markdown(r, command), r)


@register("cmi-real", "CMI: copyright holders on hand-labelled real notices of many projects (held-out split)",
          CMI)
def cmi_real(ctx: Context) -> Outcome:
    from ascertain.cmi import real_set
    from ascertain.cmi.validate import markdown_real, validate_real

    missing = _scancode_missing(ctx)
    if ctx.quick:  # a few files of the held-out split, same code path
        few = [c for c in real_set.load() if c.split == "test"][:40]
        original, real_set.load = real_set.load, (lambda path=real_set.LABELS: few)
    try:
        r = validate_real(None if missing or ctx.quick else str(ctx.scancode), ctx.work, ctx.processes, "test",
                          reuse_scancode=True)
    finally:
        if ctx.quick:
            real_set.load = original
    command = (f"ascertain cmi validate --real --split test --processes {ctx.processes} "
               f"--scancode {'none' if missing else 'SCANCODE'}")
    rates = _holders_rates(f"CMI: copyright holders, {r['files']} real files of {r['projects']} projects "
                           "(held-out)", r["ascertain"]["holders"])
    if "ScanCode" in r:
        s = r["ScanCode"]["holders"]
        rates += [_rate(f"CMI: ScanCode {r['scancode_version']}, same files", "precision", s["both"],
                        s["both"] + s["only_ascertain"]),
                  _rate(f"CMI: ScanCode {r['scancode_version']}, same files", "recall", s["both"],
                        s["both"] + s["only_scancode"])]
    return Outcome(command, rates, markdown_real(r, command), r)


@register("cmi-hard", "CMI: copyright holders on the hard set (DEP-5 fields in comment styles, hand-labelled files)",
          CMI)
def cmi_hard(ctx: Context) -> Outcome:
    from ascertain.cmi.validate import markdown_hard, validate_hard

    missing = _scancode_missing(ctx) or ("quick run" if ctx.quick else "")
    r = validate_hard(None if missing else str(ctx.scancode), ctx.work, ctx.processes, "held", reuse_scancode=True)
    command = (f"ascertain cmi validate --hard --split held --processes {ctx.processes} "
               f"--scancode {'none' if missing else 'SCANCODE'}")
    rates = _holders_rates(f"CMI: copyright holders, hard set ({r['cases']:,} cases, held-out)",
                           r["ascertain"]["holders"])
    return Outcome(command, rates, markdown_hard(r, command), r)


@register("license-families", "licence identification on near-identical families (MIT, BSD, HPND), labelled texts",
          ("cmi/license_texts.py", "cmi/spdx_ids.py", "validation/license_families.py"))
def license_families(ctx: Context) -> Outcome:
    from ascertain.validation.license_families import FAMILIES, evaluate, markdown

    test, dev = evaluate("test"), evaluate("dev")
    command = "python3 -m ascertain.validation.license_families --markdown"
    rates = []
    for fam in FAMILIES:
        f = test["families"][fam]
        named = round(f["right"] / f["precision"]) if f["precision"] else f["right"]
        rates += [_rate(f"licence identification, {fam} family, labelled real texts (test split)", "precision",
                        f["right"], named),
                  _rate(f"licence identification, {fam} family, labelled real texts (test split)", "recall",
                        f["right"], f["cases"])]
    return Outcome(command, rates, markdown(test, dev, command), {"test": test, "dev": dev})


@register("book-cmi", "book CMI (title, author, ISBN, publisher, notice) on labelled front matter",
          ("cmi/book.py", "cmi/copyrights.py", "cmi/lines.py", "validation/book_cmi.py"))
def book_cmi(ctx: Context) -> Outcome:
    from ascertain.validation.book_cmi import evaluate, markdown

    pages = 30 if ctx.quick else 300
    r = evaluate(pages, ctx.seed)
    command = f"python3 -m ascertain.validation.book_cmi --pages {pages} --seed {ctx.seed}"
    a = r["kinds"]["all"]
    rates = [_rate(f"book CMI, {pages} labelled front-matter samples", "precision", a["tp"], a["tp"] + a["fp"]),
             _rate(f"book CMI, {pages} labelled front-matter samples", "recall", a["tp"], a["tp"] + a["fn"])]
    return Outcome(command, rates, markdown(r, command + " --docs docs/validation.md"), r)


def _checkout_module(rel: str, name: str):
    """A module of the repository's benchmarks/ folder (present in a source checkout, not in an install)."""
    path = PACKAGE.parents[1] / rel
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@register("linkage", "linking works to registrations: precision and recall on noisy real records",
          ("classes/**/*", "../../benchmarks/classes.py"), needs_checkout=True)
def linkage(ctx: Context) -> Outcome:
    seed = 11  # the benchmark's held-out seed (its rules were chosen on seed 7)
    command = f"python3 benchmarks/classes.py quality --seed {seed}"
    if ctx.quick:
        why = "a quick run leaves out the linkage run (about a minute on 958 works)"
        return Outcome(command, [], f"## Linking works to registrations\n\nNot run: {why}.\n", not_run=why)
    module = _checkout_module("benchmarks/classes.py", "ascertain_benchmarks_classes")
    if module is None:
        why = "needs the source checkout (benchmarks/classes.py)"
        return Outcome(command, [], f"## Linking works to registrations\n\nNot run: {why}.\n", not_run=why)
    r = module.quality(False, seed=seed)
    a, q = r["ascertain"], r["ascertain_with_review_accepted"]
    rates = [_rate("linkage: accepted links (p ≥ 0.99 or identifier)", "precision", a["tp"], a["links"]),
             _rate("linkage: accepted links (p ≥ 0.99 or identifier)", "recall", a["tp"], r["true_pairs"]),
             _rate("linkage: accepted + review queue", "recall", q["tp"], r["true_pairs"])]
    return Outcome(command, rates, module.quality_markdown(r), r)


@register("probe", "probing a model: Tier A reproduction, Tier B false-positive rate and power, on a known split",
          ("probe/**/*",))
def probe(ctx: Context) -> Outcome:
    from ascertain.probe.calibration import Setup, markdown, run_validation

    if ctx.quick:
        st = Setup(documents=40, null_pool=200, steps=20, null_runs=20, power_runs=10, permutations=100,
                   seed=ctx.seed, passages=(10, 20), share_runs=5)
    else:
        st = Setup(seed=ctx.seed)
    r = run_validation(ctx.work, st, on_progress=ctx.progress)
    command = (f"ascertain probe validate --documents {st.documents} --null-pool {st.null_pool} --steps {st.steps} "
               f"--null-runs {st.null_runs} --power-runs {st.power_runs} --permutations {st.permutations} "
               f"--seed {st.seed}")
    rates = []
    for k in ("members", "non_members"):
        v = r["tier_a"].get(k)
        if v:
            rates.append(_rate(f"probe Tier A: reproduction of {k.replace('_', '-')}", "reproduction rate",
                               v["reproductions"], v["attempts"]))
    for a, v in r["tier_b_fpr"].items():
        rates.append(_rate(f"probe Tier B at α = {a}, null runs", "false-positive rate", v["rejections"], v["runs"]))
    return Outcome(command, rates, markdown(r, command + " --docs docs/validation.md"), json.loads(json.dumps(r)))


@register("images", "images: recall per transformation and false positives per source, beside PDQ and pHash",
          ("imaging/**/*", "validation/images.py"))
def images(ctx: Context) -> Outcome:
    from ascertain.validation.images import markdown, run_image_validation

    works, pairs = (4, 200) if ctx.quick else (60, 100_000)  # held out: 60 works x (1,320 copies + 369 distractors)
    r = run_image_validation(["skimage", "openclipart"], works, pairs, ctx.seed, on_progress=ctx.progress)
    command = f"ascertain validate --images --works {works} --negatives {pairs // 1000} --seed {ctx.seed}"
    rates = []
    for src, s in r["sources"].items():
        if "not_run" in s:
            continue
        found = [v["ascertain"] for v in s["recall"].values()]
        rates.append(_rate(f"images ({src}): copies found, every transformation", "recall",
                           sum(x["k"] for x in found), sum(x["n"] for x in found)))
        fp = s["false_positives"]["ascertain"]
        rates.append(_rate(f"images ({src}): distinct image pairs called copies", "false-positive rate", fp["k"],
                           fp["n"]))
    return Outcome(command, rates, "## Images: copies of real images\n\n" + markdown(r, command), r)


@register("visible-marks", "visible signature or watermark region: kept, altered, removed or cropped out in each copy",
          ("imaging/**/*", "cmi/visible.py", "validation/visible_marks.py"))
def visible_marks(ctx: Context) -> Outcome:
    from ascertain.imaging.visible_mark import STATUSES
    from ascertain.validation.visible_marks import markdown, run

    per_source = 3 if ctx.quick else 40
    r = run(per_source, ctx.seed)
    command = f"python3 -m ascertain.validation.visible_marks --per-source {per_source} --seed {ctx.seed}"
    rates = []
    for src, s in r["sources"].items():
        conf = s["confusion"]
        for st in STATUSES:
            tp = conf.get((st, st), 0)
            rates.append(_rate(f"visible mark ({src}): {st.replace('_', ' ')}", "precision", tp,
                               sum(v for (_t, g), v in conf.items() if g == st)))
            rates.append(_rate(f"visible mark ({src}): {st.replace('_', ' ')}", "recall", tp,
                               sum(v for (t, _g), v in conf.items() if t == st)))
    raw = {"seed": r["seed"], "per_source": r["per_source"], "sources": {
        src: {**{k: v for k, v in s.items() if k not in ("confusion", "scores")},
              "confusion": {f"{t} -> {g}": v for (t, g), v in sorted(s["confusion"].items())}}
        for src, s in r["sources"].items()}}
    return Outcome(command, rates, markdown(r, command), raw)


@register("image_metadata", "image metadata: claimants' names in captions (exact, case, transliterated, typos; hard "
          "negatives) per source, the common-name control, and the 64-bit pHash threshold",
          ("match/caption_names.py", "match/image_metadata.py", "match/metadata_hashes.py",
           "validation/image_metadata.py"))
def image_metadata(ctx: Context) -> Outcome:
    from ascertain.validation.image_metadata import markdown, run_image_metadata_validation

    r = run_image_metadata_validation(ctx.seed, quick=ctx.quick)
    command = f"ascertain validate --image-metadata --seed {ctx.seed}"
    rates = []
    for name, t in r.get("test", {}).items():
        rates.append(_rate(f"names in captions ({name})", "precision", t["tp"], t["tp"] + t["fp"]))
        rates.append(_rate(f"names in captions ({name})", "recall", t["tp"], t["tp"] + t["fn"]))
    for src, s in r.get("phash", {}).items():
        if "per_threshold" in s and r.get("phash_chosen") is not None:
            v = s["per_threshold"][r["phash_chosen"]]
            rates.append(_rate(f"pHash at {r['phash_chosen']} bits ({src}): scraper copies", "recall",
                               v["recall"]["k"], v["recall"]["n"]))
            rates.append(_rate(f"pHash at {r['phash_chosen']} bits ({src}): distinct images", "false-positive rate",
                               v["false_positives"]["k"], v["false_positives"]["n"]))
    return Outcome(command, rates, "## Image metadata: names in captions, pHash threshold\n\n" + markdown(r, command),
                   json.loads(json.dumps(r)), r.get("not_run", ""))


@register("watermark", "the generators' invisible watermark: found after each transformation, and the empirical null",
          ("imaging/watermark.py", "validation/watermark.py"))
def watermark(ctx: Context) -> Outcome:
    from ascertain.validation.watermark import markdown, run_watermark_validation

    r = run_watermark_validation(ctx.seed, quick=ctx.quick)
    command = f"ascertain validate --watermark --seed {ctx.seed}"
    rates = []
    for src, s in r["sources"].items():
        if "not_run" in s:
            continue
        v = s["found"]["none (PNG as saved)"]
        rates.append(_rate(f"watermark ({src}): found as saved", "recall", v["k"], v["n"]))
        rates.append(_rate(f"watermark ({src}): unwatermarked called watermarked", "false-positive rate",
                           s["null"]["k"], s["null"]["n"]))
    return Outcome(command, rates, "## Invisible watermark of image generators\n\n" + markdown(r, command), r)


@register("s412", "§412 eligibility against outcomes worked out from the statute",
          ("classes/eligibility.py", "classes/facts.py", "text/bibliographic.py", "validation/s412.py"))
def s412(ctx: Context) -> Outcome:
    from ascertain.validation.s412 import evaluate, markdown

    r = evaluate()
    command = "ascertain validate --all --only s412"
    rates = [_rate(f"§412 eligibility, {r['cases']} hand-worked date cases", "agreement", r["agree"], r["cases"])]
    return Outcome(command, rates, markdown(r, command), r)


@register("per-copy", "§1202(b) per copy: identical except CMI and typographical only (real files, labelled edits)",
          CMI + ("text/**/*", "validation/per_copy.py"))
def per_copy(ctx: Context) -> Outcome:
    from ascertain.validation.per_copy import markdown, rates, run

    files, offset = (10, 0) if ctx.quick else (400, 400)  # files 401-800: unseen while the detectors were written
    r = run(files, offset)
    command = f"python3 -m ascertain.validation.per_copy --files {files}" + (f" --offset {offset}" if offset else "")
    return Outcome(command, rates(r), markdown(r, command), r)


@register("short-works", "short works: same-task independent solutions against comment/layout, rename and reorder "
          "copies, decided without and with a reference (held-out tasks)", ("validation/short_works.py",))
def short_works(ctx: Context) -> Outcome:
    from ascertain.validation.short_works import MODES, markdown, run_short_works

    seed, tasks = 11, (20 if ctx.quick else 1200)  # seed 11: the documented split of tasks
    r = run_short_works(ctx.work, seed=seed, max_tasks=tasks, on_progress=ctx.progress)
    command = f"ascertain validate --short-works --works {tasks} --seed {seed}"
    held = r["summary"]["held-out"]
    rates = []
    for mode in MODES:
        if held[mode]["fpr"]["n"]:
            rates.append(_rate(f"short works ({mode}): independent same-task pairs called copied (held-out)",
                               "false-positive rate", held[mode]["fpr"]["k"], held[mode]["fpr"]["n"]))
        t = held[mode]["recall_target_copies"]
        if t["n"]:
            rates.append(_rate(f"short works ({mode}): comment/layout, rename, reorder copies (held-out)", "recall",
                               t["k"], t["n"]))
    return Outcome(command, rates, markdown(r, command + " --docs docs/validation.md"), r)
