"""The demo's images: an artist's portfolio (public-domain drawings with CMI), a webdataset shard of a training
corpus and a folder of generated outputs with planted copies, and LAION/DataComp/COYO-style metadata; each
planted case (demo_data/images/planted.json) must be found as planted, and nothing else."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text
from sqlalchemy import select

from ascertain.case import Case
from ascertain.readers import ReadOptions
from ascertain.report.tables import add_row, new_table
from ascertain.store import schema
from ascertain.works import import_manifest

CORPUS, OUTPUTS = "images-corpus", "images-outputs"
METADATA = {"images-laion": "laion", "images-datacomp": "datacomp", "images-coyo": "coyo"}


def add_image_inputs(case: Case, data: Path, say) -> None:
    """The portfolio as works, the shard and the outputs as image sources, the metadata files as metadata-only
    datasets."""
    from ascertain.image_metadata_sources import add_image_metadata_source
    from ascertain.sources_images import add_image_source

    images = data / "images"
    works = import_manifest(case, str(images / "works.csv"))
    say(f"image works: {len(works.added)} drawings by Dan Gerhards (public domain, with CMI) from images/works.csv")
    corpus = add_image_source(case, CORPUS, "corpus", [str(images / "corpus" / "00000.tar")], ReadOptions())
    say(f"image corpus: {corpus['documents']} images in a webdataset shard, {corpus['skipped']} skipped "
        f"(a truncated JPEG)")
    outputs = add_image_source(case, OUTPUTS, "outputs", [str(images / "outputs")], ReadOptions())
    say(f"image outputs: {outputs['documents']} generated images")
    rows = 0
    for name, folder in METADATA.items():
        rows += add_image_metadata_source(case, name, [str(images / folder)])["rows"]
    say(f"image metadata: {rows} rows of LAION-, DataComp- and COYO-style Parquet (no images)")


def match_images(case: Case) -> dict:
    from ascertain.match.image_metadata import run_image_metadata_match
    from ascertain.match.images import ImageMatchOptions, run_image_match

    return {"images": run_image_match(case, ImageMatchOptions()),
            "metadata": run_image_metadata_match(case, list(METADATA))}


def _found(case: Case) -> tuple[list[dict], list[dict]]:
    """The image copies and the metadata evidence in the store, as the demo compares them with planted.json."""
    ie, me, wf, src = (schema.image_evidence, schema.image_metadata_evidence, schema.work_files,
                       schema.sources)
    with case.store.engine.connect() as c:
        copies = [dict(r) for r in c.execute(
            select(wf.c.path, src.c.name.label("source"), ie.c.doc_locator, ie.c.tier, ie.c.work_area_share,
                   ie.c.cmi_status, ie.c.transform).join(wf, wf.c.id == ie.c.work_file_id)
            .join(src, src.c.id == ie.c.source_id).where(ie.c.copied.is_(True)).order_by(ie.c.id)).mappings()]
        meta = [dict(r) for r in c.execute(
            select(src.c.name.label("source"), me.c.file, me.c.row, me.c.kind, me.c.match, me.c.matched,
                   me.c.target).join(src, src.c.id == me.c.source_id).order_by(me.c.id)).mappings()]
    return copies, meta


def _short(v: str, n: int = 24) -> str:
    return v if len(v) <= n else v[:n - 1] + "…"


def _is(p: dict, e: dict) -> bool:
    return (Path(e["path"]).name == p["work_file"] and e["source"] == p["source"]
            and e["doc_locator"].replace("\\", "/").endswith(p["document"]))


def _meta_is(p: dict, m: dict) -> bool:
    name, row = p["document"].rsplit(":", 1)
    return m["source"] == p["source"] and Path(m["file"]).name == name and int(m["row"]) + 1 == int(row)


def check_images(case: Case, data: Path, console: Console | None) -> dict:
    """Each planted image case found as planted (tier and CMI status; metadata rows by dataset and row), and no
    image copy or metadata row reported that was not planted."""
    import json

    planted = json.loads((data / "images" / "planted.json").read_text())
    copies, meta = _found(case)
    rows, missed, wrong = [], [], []
    for p in planted:
        if p["tier"] in ("metadata", "hash"):
            hits = [m for m in meta if _meta_is(p, m)]
            got = "; ".join(sorted({f"{m['kind'].replace('_', ' ')} ({m['match']}) “{_short(m['matched'])}”"
                                    for m in hits}))
            ok = bool(hits)
        else:
            hit = next((e for e in copies if _is(p, e)), None)
            got = (f"{hit['tier'].replace('_', ' ')}, {hit['work_area_share']:.0%}, CMI {hit['cmi_status']}"
                   if hit else "")
            ok = bool(hit) and hit["tier"] == p["tier"] and hit["cmi_status"] == p["cmi"]
            if hit and not ok:
                wrong.append(p)
        if not ok and p not in wrong:
            missed.append(p)
        rows.append((p, got, ok))
    unplanted = [e for e in copies if not any(_is(p, e) for p in planted if p["tier"] not in ("metadata", "hash"))]
    meta_planted = [p for p in planted if p["tier"] in ("metadata", "hash")]
    meta_extra = sorted({(m["source"], Path(m["file"]).name, int(m["row"]) + 1) for m in meta
                         if not any(_meta_is(p, m) for p in meta_planted)})
    if console:
        t = new_table("work", "planted", "found", title="planted image cases")
        for p, got, ok in rows:
            add_row(t, p["work_file"], f"{p['kind']} ({p['source']} {p['document']})",
                    Text(got) if ok else Text(got or "MISSED", style="red"))
        console.print(t)
        for e in unplanted:
            console.print(f"[red]unexpected image copy[/]: {Path(e['path']).name} in {e['source']}: {e['doc_locator']}")
        for s, f, r in meta_extra:
            console.print(f"[red]unexpected metadata evidence[/]: {s}: {f} row {r}")
        n_ok = sum(ok for _, _, ok in rows)
        console.print(f"{n_ok}/{len(planted)} planted image cases found as planted ({len(copies)} image copies, "
                      f"{len({(m['source'], m['file'], m['row']) for m in meta})} metadata rows in evidence), "
                      f"{len(unplanted)} unplanted copies, {len(meta_extra)} unplanted metadata rows")
    return {"ok": not missed and not wrong and not unplanted and not meta_extra, "planted": len(planted),
            "found": sum(ok for _, _, ok in rows), "missed": [p["document"] for p in missed],
            "wrong": [p["document"] for p in wrong], "unplanted": [e["doc_locator"] for e in unplanted],
            "unplanted_metadata": [f"{s}: {f} row {r}" for s, f, r in meta_extra]}
