"""What `compare` prints for two images (the text pair is printed by cli/compare.py)."""

from __future__ import annotations

from ascertain.cli.common import emit_json, esc, line, out


def print_image_comparison(original: str, copy: str, as_json: bool) -> None:
    from ascertain.imaging.compare import compare_image_files

    r = compare_image_files(original, copy)
    if as_json:
        emit_json(r)
        return
    verdict = "[bold red]COPIED[/]" if r["decision"] == "copied" else "[green]not copied[/]"
    out.print(f"{verdict} (image{', ' + r['tier'].replace('_', ' ') if r['tier'] else ''})", highlight=False)
    line(f"original: {esc(original)} ({r['work_size'][0]} x {r['work_size'][1]})")
    line(f"copy:     {esc(copy)} ({r['copy_size'][0]} x {r['copy_size'][1]})")
    line(esc(r["summary"]))
    cmi = r["cmi"]
    line(f"image CMI: {cmi['status'].replace('_', ' ')}; C2PA manifest: {cmi['c2pa'].replace('_', ' ')}")
    for field, f in cmi["fields"].items():
        line(f"{field}: {f['status']} ({esc(f['work'])!r} → {esc(f['copy'])!r})" if f["copy"] else
             f"{field}: {f['status']} (was {esc(f['work'])!r})", 4)
