"""What `compare` prints for two images (the text pair is printed by cli/compare.py)."""

from __future__ import annotations

from ascertain.cli.common import emit_json, esc, line, out


def print_image_comparison(original: str, copy: str, as_json: bool, learned=None) -> None:
    from ascertain.imaging.compare import compare_image_files

    r = compare_image_files(original, copy)
    if learned is not None:  # the optional learned tier: a separate signal beside the decision, never in it
        r["learned"] = _learned(learned, original, copy)
    if as_json:
        emit_json(r)
        return
    verdict = "[bold red]COPIED[/]" if r["decision"] == "copied" else "[green]not copied[/]"
    out.print(f"{verdict} (image{', ' + r['tier'].replace('_', ' ') if r['tier'] else ''})", highlight=False)
    line(f"original: {esc(original)} ({r['work_size'][0]} x {r['work_size'][1]})")
    line(f"copy:     {esc(copy)} ({r['copy_size'][0]} x {r['copy_size'][1]})")
    line(esc(r["summary"]))
    if "learned" in r:
        lr = r["learned"]
        line(f"learned descriptor: cosine {lr['cosine']:.3f} ({'similar' if lr['similar'] else 'not similar'} at "
             f"{lr['model']['threshold']}; model {esc(lr['model']['format'])}, sha256 {lr['model']['sha256'][:16]}…)")
    cmi = r["cmi"]
    line(f"image CMI: {cmi['status'].replace('_', ' ')}; C2PA manifest: {cmi['c2pa'].replace('_', ' ')}")
    for field, f in cmi["fields"].items():
        line(f"{field}: {f['status']} ({esc(f['work'])!r} → {esc(f['copy'])!r})" if f["copy"] else
             f"{field}: {f['status']} (was {esc(f['work'])!r})", 4)


def validate_images(works: int, pairs: int, seed: int, docs, as_json: bool) -> None:
    """`ascertain validate --images`: recall per transformation and false positives, per source."""
    from ascertain.cli.common import err
    from ascertain.report.doc_sections import write_section
    from ascertain.validation.images import markdown, run_image_validation

    r = run_image_validation(["skimage", "openclipart"], works, pairs, seed,
                             on_progress=lambda m: err.print(m, markup=False, highlight=False))
    command = f"ascertain validate --images --works {works} --negatives {pairs // 1000} --seed {seed}"
    md = markdown(r, command)
    if docs:
        write_section(docs, "images", md)
    if as_json:
        emit_json(r)
    else:
        out.print(md, markup=False, highlight=False)


def _learned(learned, original: str, copy: str) -> dict:
    from pathlib import Path

    from ascertain.imaging.decode import decode

    a = decode(Path(original).read_bytes(), original).pixels
    b = decode(Path(copy).read_bytes(), copy).pixels
    return learned.compare(a, b)
