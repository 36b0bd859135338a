"""Images through the case stages, end to end: an artist's portfolio added as works (a folder, and a works list
with titles and dates), an img2dataset webdataset shard built here with planted copies (re-encoded with the
metadata stripped, cropped, identical bytes twice, CMI altered, flipped) and bad images, generated images as an
output set, `match`, and the evidence rows: tiers, regions, transformations, image CMI status per field, counted
duplicates with every locator, CMI rates, skips with their reasons. SQLite, and PostgreSQL where the harness
has a server.

The works are public-domain clip art committed under tests/data/images (see its LICENSE)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageOps
from sqlalchemy import select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.store import schema

IMAGES = Path(__file__).parent / "data" / "images"
ARTIST = "Ann Artist"
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
       b'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"><dc:creator><rdf:Seq><rdf:li>Ann Artist</rdf:li></rdf:Seq>'
       b'</dc:creator><dc:rights><rdf:Alt><rdf:li xml:lang="x-default">(c) 2024 Ann Artist, all rights reserved'
       b'</rdf:li></rdf:Alt></dc:rights><plus:DataMining rdf:resource="http://ns.useplus.org/ldf/vocab/'
       b'DMI-PROHIBITED"/></rdf:Description></rdf:RDF></x:xmpmeta>')
runner = CliRunner()


def rgb(name: str) -> Image.Image:
    return Image.open(IMAGES / name).convert("RGB")


def exif(artist: str = ARTIST, notice: str = "(c) 2024 Ann Artist") -> Image.Exif:
    e = Image.Exif()
    e[0x013B], e[0x8298] = artist, notice
    return e


def jpeg(im: Image.Image, quality: int = 92, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, "JPEG", quality=quality, **kw)
    return b.getvalue()


def png(im: Image.Image) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue()


def cli(*args: str) -> str:
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r.output


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    """The artist's works as she publishes them: JPEGs carrying EXIF and XMP CMI (one PNG without any)."""
    d = tmp_path_factory.mktemp("portfolio")
    for name in ("car", "carnegie_library", "daedalus_and_ikarus"):
        (d / f"{name}.jpg").write_bytes(jpeg(rgb(f"{name}.png"), exif=exif(), xmp=XMP))
    shutil.copy(IMAGES / "watermelon.png", d / "watermelon.png")
    return d


def shard(path: Path, samples: list[tuple[str, str, bytes, str, str]]) -> None:
    """An img2dataset shard: KEY.ext + KEY.txt + KEY.json per sample, and the shard's Parquet."""
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tf:
        for key, ext, data, caption, url in samples:
            for member, payload in ((f"{key}.{ext}", data), (f"{key}.txt", caption.encode()),
                                    (f"{key}.json", json.dumps({"key": key, "url": url, "caption": caption,
                                                                "status": "success"}).encode())):
                info = tarfile.TarInfo(member)
                info.size, info.mtime = len(payload), 0
                tf.addfile(info, io.BytesIO(payload))
    pq.write_table(pa.table({"key": [s[0] for s in samples] + ["000000099"],
                             "url": [s[4] for s in samples] + ["https://example.org/gone.jpg"],
                             "caption": [s[3] for s in samples] + ["a file that failed to download"],
                             "status": ["success"] * len(samples) + ["failed_to_download"]}),
                   path.with_suffix(".parquet"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, portfolio: Path) -> Path:
    d = tmp_path_factory.mktemp("laion")
    car, lib, dae = (rgb(f"{n}.png") for n in ("car", "carnegie_library", "daedalus_and_ikarus"))
    w, h = lib.size
    bomb = png(Image.new("1", (20000, 20000)))  # 50 KB declaring 400 million pixels
    whole = (portfolio / "daedalus_and_ikarus.jpg").read_bytes()
    shard(d / "00000.tar", [
        ("000000000", "jpg", jpeg(car, 75), "red car, clipart", "https://cdn.example.com/car.jpg"),  # stripped
        ("000000001", "png", png(lib.crop((w // 10, h // 10, w - w // 10, h - h // 10))), "library building",
         "https://img.example.net/lib.png"),
        ("000000002", "jpg", whole, "daedalus and ikarus by Ann Artist", "https://annartist.example/dae.jpg"),
        ("000000003", "jpg", whole, "greek myth illustration", "https://aggregator.example/x/3.jpg"),
        ("000000004", "jpg", jpeg(dae, 85, exif=exif("Unknown", "public domain")), "myth", "https://x.example/4"),
        ("000000005", "png", png(rgb("the_moon.png")), "the moon", "https://moon.example/m.png"),
        ("000000006", "jpg", whole[: len(whole) // 2], "truncated", "https://x.example/6"),
        ("000000007", "png", bomb, "bomb", "https://x.example/7"),
        ("000000008", "jpg", b"not an image at all", "junk", "https://x.example/8"),
    ])
    return d


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("generated")
    (d / "gen-001.png").write_bytes(png(ImageOps.mirror(rgb("watermelon.png"))))
    (d / "gen-002.png").write_bytes(png(rgb("the_moon.png")))
    (d / "outputs.jsonl").write_text(  # as text outputs enter: one object a line, the image named in it
        json.dumps({"image": "gen-001.png", "prompt": "a watermelon in the style of Ann Artist", "model": "sd-1.5",
                    "timestamp": "2024-01-02T03:04:05Z"}) + "\n"
        + json.dumps({"image": "gen-002.png", "prompt": "the moon", "model": "sd-1.5"}) + "\n"
        + json.dumps({"prompt": "no image named"}) + "\n")
    return d


@pytest.fixture(scope="module")
def matched(backend, tmp_path_factory, new_store_url, portfolio, corpus, outputs) -> Case:
    root = tmp_path_factory.mktemp(f"imgcase-{backend}") / "case"
    url = new_store_url(backend)
    cli("init", root, *(["--store", url] if url else []))
    cli("works", "add", root, portfolio, "--claimant", ARTIST)
    cli("corpus", "add", root, "laion", corpus / "00000.tar")
    cli("outputs", "add", root, "model-v1", outputs / "outputs.jsonl", "--images")
    cli("match", root)
    return Case.open(root)


def evidence(case: Case) -> dict[str, dict]:
    ie, w = schema.image_evidence, schema.works
    with case.store.engine.connect() as c:
        rows = c.execute(select(ie, w.c.title).join(w, w.c.id == ie.c.work_id)).mappings().all()
    return {r["doc_locator"].rsplit("/", 1)[-1]: dict(r) for r in rows}


def test_portfolio_folder_is_one_work_per_image_with_its_cmi(matched: Case):
    with matched.store.engine.connect() as c:
        rows = c.execute(select(schema.works.c.title, schema.work_images.c.cmi, schema.work_images.c.media_type)
                         .join(schema.work_images, schema.work_images.c.work_id == schema.works.c.id)
                         .order_by(schema.works.c.title)).all()
    titles = [t for t, _, _ in rows]
    assert titles == ["car.jpg", "carnegie_library.jpg", "daedalus_and_ikarus.jpg", "watermelon.png"]
    cmi = {t: m for t, m, _ in rows}
    assert cmi["car.jpg"]["fields"]["exif:Artist"] == ARTIST
    assert cmi["car.jpg"]["fields"]["xmp:plus:DataMining"].endswith("DMI-PROHIBITED")
    assert cmi["watermelon.png"]["fields"] == {}


def test_copies_in_the_shard_are_found_in_their_tiers_with_cmi_status(matched: Case):
    ev = evidence(matched)
    stripped = ev["00000.tar!000000000.jpg"]
    assert stripped["title"] == "car.jpg" and stripped["tier"] == "near_duplicate"
    assert stripped["cmi_status"] == "removed" and stripped["url"] == "https://cdn.example.com/car.jpg"
    assert {f["status"] for f in stripped["cmi"].values()} == {"removed"}
    assert "xmp:plus:DataMining" in stripped["cmi"] and stripped["caption"] == "red car, clipart"

    crop = ev["00000.tar!000000001.png"]
    assert crop["title"] == "carnegie_library.jpg" and crop["tier"] == "region_copy"
    assert abs(crop["work_area_share"] - 0.64) < 0.04
    x0, y0, x1, y1 = crop["work_region"]
    assert abs(x0 - 0.1) < 0.02 and abs(x1 - 0.9) < 0.02 and abs(y0 - 0.1) < 0.02 and abs(y1 - 0.9) < 0.02
    t = crop["transform"]
    assert abs(t["scale"] - 1) < 0.03 and abs(t["rotation_degrees"]) < 1 and not t["mirrored"]
    assert all(abs(t["crop"][side] - 0.1) < 0.02 for side in ("left", "top", "right", "bottom"))
    assert crop["cmi_status"] == "removed"  # a PNG re-made from the pixels carries none of the JPEG's CMI

    altered = ev["00000.tar!000000004.jpg"]
    assert altered["title"] == "daedalus_and_ikarus.jpg" and altered["tier"] == "near_duplicate"
    assert altered["cmi_status"] == "altered"
    assert altered["cmi"]["exif:Artist"] == {"work": ARTIST, "copy": "Unknown", "status": "altered"}
    assert altered["cmi"]["xmp:dc:creator"]["status"] == "removed"


def test_identical_bytes_are_measured_once_counted_and_every_locator_listed(matched: Case):
    ev = evidence(matched)
    same = ev["00000.tar!000000002.jpg"]
    assert same["tier"] == "same_bytes" and same["copies"] == 2 and same["cmi_status"] == "retained"
    assert "00000.tar!000000003.jpg" not in ev  # the second copy is counted in the first's record
    with matched.store.engine.connect() as c:
        locs = [r[0].rsplit("/", 1)[-1] for r in c.execute(
            select(schema.image_evidence_copies.c.locator).where(
                schema.image_evidence_copies.c.evidence_id == same["id"])
            .order_by(schema.image_evidence_copies.c.doc_id))]
    assert locs == ["00000.tar!000000002.jpg", "00000.tar!000000003.jpg"]


def test_distinct_images_are_not_evidence_and_bad_images_are_recorded_skips(matched: Case):
    ev = evidence(matched)
    assert not [k for k in ev if k.startswith("00000.tar!000000005")]  # the moon: no work of the artist
    with matched.store.engine.connect() as c:
        skips = {r.locator.rsplit("/", 1)[-1]: r.reason for r in c.execute(
            select(schema.skipped).where(schema.skipped.c.source == "laion"))}
    assert "truncated" in skips["00000.tar!000000006.jpg"]
    assert "decompression bomb" in skips["00000.tar!000000007.png"]
    assert "not a readable image" in skips["00000.tar!000000008.jpg"]


def test_cmi_rates_over_the_corpus_and_the_run_manifest(matched: Case):
    from ascertain.match.images import stored_cmi_rates

    rates = stored_cmi_rates(matched)["laion"]
    # copies of works that carried CMI: car (removed), library crop (removed), daedalus x2 (kept), altered
    assert rates["with_work_cmi"] == 5 and rates["removed"] == 2 and rates["retained"] == 2
    assert rates["altered"] == 1 and rates["removed_share"] == 0.4
    assert rates["fields"]["exif:Artist"] == {"kept": 2, "altered": 1, "removed": 2}
    with matched.store.engine.connect() as c:
        m = c.execute(select(schema.runs.c.manifest).where(schema.runs.c.stage == "match images")).scalars().all()[-1]
    assert m["parameters"]["pdq_near"] == 31 and m["parameters"]["regions"]["min_inliers"] >= 1
    assert m["parameters"]["libraries"]["pdqhash"] and m["per_source"]["laion"]["documents"] == 6


def test_generated_images_are_an_output_set_compared_with_the_works(matched: Case):
    ev = evidence(matched)
    gen = ev["gen-001.png"]
    assert gen["title"] == "watermelon.png" and gen["tier"] == "near_duplicate"
    assert gen["transform"]["orientation"] == "mirrored left to right" and gen["cmi_status"] == "never_present"
    assert "gen-002.png" not in ev
    with matched.store.engine.connect() as c:
        outs = c.execute(select(schema.outputs.c.locator, schema.outputs.c.prompt, schema.outputs.c.model)
                         .order_by(schema.outputs.c.doc_id)).all()
        skipped = c.execute(select(schema.skipped.c.reason).where(schema.skipped.c.source == "model-v1")).scalars()
        assert any("no image file named" in r for r in skipped)
    assert [(o.rsplit("/", 1)[-1], p, m) for o, p, m in outs] == [
        ("gen-001.png", "a watermelon in the style of Ann Artist", "sd-1.5"), ("gen-002.png", "the moon", "sd-1.5")]
    assert gen["caption"] == "a watermelon in the style of Ann Artist"


def test_a_works_list_gives_image_works_their_titles_and_dates(tmp_path, portfolio: Path):
    root = tmp_path / "case"
    cli("init", root)
    lst = tmp_path / "works.csv"
    with open(lst, "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["claimant", "title", "publication_date", "path"])
        wr.writerow([ARTIST, "Red Car", "2021-05-01", portfolio / "car.jpg"])
        wr.writerow([ARTIST, "Watermelon", "2019", portfolio / "watermelon.png"])
    cli("works", "import", root, lst)
    case = Case.open(root)
    with case.store.engine.connect() as c:
        rows = c.execute(select(schema.works.c.title, schema.work_details.c.publication_date,
                                schema.work_images.c.width)
                         .join(schema.work_details, schema.work_details.c.work_id == schema.works.c.id)
                         .join(schema.work_images, schema.work_images.c.work_id == schema.works.c.id)
                         .order_by(schema.works.c.title)).all()
    assert [(t, d) for t, d, _ in rows] == [("Red Car", "2021-05-01"), ("Watermelon", "2019")]
    assert all(w > 0 for _, _, w in rows)


def test_a_large_corpus_takes_candidates_from_the_code_scan(matched: Case):
    """Past exhaustive_pairs, candidates come from the exact scan of PDQ codes against the work's query
    variants: the re-encoded, identical and altered copies are found, and the 10 % crop through the work's
    centre-crop variant; each record says why its pair was a candidate."""
    from ascertain.match.images import ImageMatchOptions, run_image_match

    r = run_image_match(matched, ImageMatchOptions(sources=["laion"], exhaustive_pairs=0))
    assert r["per_source"]["laion"]["mode"] == "scan"
    ev = evidence(matched)
    assert {"00000.tar!000000000.jpg", "00000.tar!000000002.jpg", "00000.tar!000000004.jpg",
            "00000.tar!000000001.png"} <= set(ev)
    crop = ev["00000.tar!000000001.png"]
    assert crop["tier"] == "region_copy" and "centre crop 10% per side" in crop["facts"]["candidate_by"]
    assert ev["00000.tar!000000002.jpg"]["facts"]["candidate_by"].startswith("PDQ of the work's original")
    run_image_match(matched, ImageMatchOptions(sources=["laion"]))  # the module's other tests see the full run


def test_show_and_the_evidence_csv_include_the_image_evidence(matched: Case, tmp_path):
    summary = json.loads(cli("show", matched.root, "--json"))
    car = next(w for w in summary["works"] if w["title"] == "car.jpg")
    assert car["copies"] == 1 and car["copied_in"] == ["laion"] and car["image"]
    assert summary["image_cmi_rates"]["laion"]["removed"] == 2
    lib = json.loads(cli("show", matched.root, str(next(w["id"] for w in summary["works"]
                                                         if w["title"] == "carnegie_library.jpg")), "--json"))
    assert lib["image_cmi"][0]["fields"]["exif:Artist"] == ARTIST
    assert [e["tier"] for e in lib["image_evidence"]] == ["region_copy"]
    text = runner.invoke(app, ["show", str(matched.root), str(lib["id"])], env={"COLUMNS": "80"}).output
    share = f"{lib['image_evidence'][0]['work_area_share']:.0%} of the work"
    assert "region copy" in text and share in text and "image CMI removed in laion" in text
    out = tmp_path / "evidence.csv"
    cli("show", matched.root, "--csv", out)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "image"]
    dae = next(r for r in rows if r["document"].endswith("000000002.jpg"))
    assert dae["image_tier"] == "same_bytes" and dae["copies"] == "2" and dae["cmi_status"] == "retained"
    crop = next(r for r in rows if r["image_tier"] == "region_copy" and r["source"] == "laion")
    assert abs(float(crop["work_region"].split()[0]) - 0.1) < 0.02 and crop["url"] == "https://img.example.net/lib.png"
    assert "exif:Artist: removed" in crop["cmi_fields"]


def test_verify_re_derives_the_image_index_and_works_and_names_a_changed_store(matched: Case, tmp_path):
    from ascertain.report.case_data import index_path
    from ascertain.report.rederive_images import rebuild_image_index, rederive_image_works

    diffs: list[tuple[str, str, str]] = []
    with matched.store.engine.connect() as c:
        src = dict(c.execute(select(schema.sources).where(schema.sources.c.name == "laion")).mappings().one())
    assert rebuild_image_index(src, index_path(matched, src), tmp_path / "laion", lambda *d: diffs.append(d)) == 1
    assert diffs == []  # the same inputs give the same index, byte for byte (the code table's shards too)
    assert rederive_image_works(matched, matched, lambda *d: diffs.append(d)) == 4 and diffs == []
    with matched.store.begin() as c:
        c.execute(schema.work_images.update().where(schema.work_images.c.work_id == 1).values(
            cmi={"fields": {}, "c2pa": False, "errors": []}))
    rederive_image_works(matched, matched, lambda *d: diffs.append(d))  # and puts the derived row back
    assert len(diffs) == 1 and "store was changed" in diffs[0][2]


def test_odd_images_are_indexed_as_converted_and_hostile_members_refused(tmp_path):
    """CMYK, 16-bit and animated images are read (converted to 8-bit RGB, the first frame), their stored mode
    and frames recorded; corrupt EXIF leaves the image readable with no CMI; a member escaping the archive and a
    link are refused with the reason, like any archive's."""
    import numpy as np

    from ascertain.index.images import ImageIndexWriter, read_image_index
    from ascertain.readers.base import ReadOptions
    from ascertain.readers.images import read_images

    im = rgb("car.png")
    gif = io.BytesIO()
    im.convert("P").save(gif, "GIF", save_all=True, append_images=[im.rotate(90).convert("P")], duration=100)
    j = jpeg(im)
    bad_exif = j[:2] + b"\xff\xe1\x00\x20Exif\x00\x00MM\x00\x2a\x00\x00\xff\xff\xff\xffgarbagegarbage!!" + j[2:]
    members = {"cmyk.jpg": jpeg(im.convert("CMYK")), "gray16.png": png(Image.fromarray(
        np.asarray(im.convert("L"), np.uint16) * 257)), "anim.gif": gif.getvalue(), "badexif.jpg": bad_exif,
        "../escape.png": png(im)}
    with tarfile.open(tmp_path / "odd.tar", "w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link.png")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    skips = []
    m = ImageIndexWriter(tmp_path / "idx", [], {}).build(read_images([tmp_path / "odd.tar"], ReadOptions()),
                                                         skips.extend)
    rows = {r["locator"].rsplit("!", 1)[-1]: r for r in read_image_index(tmp_path / "idx", m).to_pylist()}
    assert (rows["cmyk.jpg"]["mode"], rows["gray16.png"]["mode"], rows["anim.gif"]["frames"]) == ("CMYK", "I;16", 2)
    bad = json.loads(rows["badexif.jpg"]["cmi"])
    assert bad["fields"] == {} and "Corrupt EXIF" in " ".join(bad["errors"])
    reasons = sorted(s.reason.split(":")[0] for s in skips)
    assert reasons == ["link in archive refused (links are not content and may point out of the archive)",
                       "path traversal refused"]


def test_the_image_index_is_the_same_bytes_on_a_process_pool(corpus: Path, tmp_path):
    from ascertain.engine import make_executor
    from ascertain.index.images import ImageIndexWriter
    from ascertain.readers.base import ReadOptions
    from ascertain.readers.images import read_images

    def build(folder: Path, executor=None) -> dict[str, bytes]:
        ImageIndexWriter(folder, [], {}).build(read_images([corpus / "00000.tar"], ReadOptions()), lambda s: None,
                                               executor=executor)
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    pool = make_executor("local", 2)
    try:
        assert build(tmp_path / "pool", pool) == build(tmp_path / "one")
    finally:
        pool.close()


def test_compare_takes_the_locator_of_image_evidence(matched: Case, portfolio: Path):
    loc = evidence(matched)["00000.tar!000000004.jpg"]["doc_locator"]
    r = json.loads(cli("compare", portfolio / "daedalus_and_ikarus.jpg", loc, "--json"))
    assert r["tier"] == "near_duplicate" and r["cmi"]["fields"]["exif:Artist"]["status"] == "altered"
    bad = runner.invoke(app, ["compare", str(portfolio / "car.jpg"), loc.replace("000000004", "000000077")])
    assert bad.exit_code == 2 and "no such image member" in bad.output


def test_a_run_that_cannot_read_the_copies_again_keeps_the_stored_evidence(tmp_path):
    root, corpus = tmp_path / "case", tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "copy.jpg").write_bytes(jpeg(rgb("car.png"), 80))
    cli("init", root)
    cli("works", "add", root, IMAGES / "car.png", "--claimant", ARTIST)
    cli("corpus", "add", root, "c", corpus)
    assert "images: 1 evidence records" in cli("match", root)
    (corpus / "copy.jpg").unlink()  # the input moved away after indexing
    r = runner.invoke(app, ["match", str(root)])
    assert r.exit_code == 2 and "1 image record(s) for c" in r.output
    assert len(evidence(Case.open(root))) == 1
    assert "images: 0 evidence records" in cli("match", root, "--allow-empty")


def test_a_portfolio_with_a_readme_is_image_works_and_a_repository_with_icons_a_text_work(tmp_path, data):
    port = tmp_path / "port"
    port.mkdir()
    for n in ("car", "watermelon"):
        shutil.copy(IMAGES / f"{n}.png", port / f"{n}.png")
    (port / "README.txt").write_text("Ann Artist's portfolio, all rights reserved\n")
    root = tmp_path / "case"
    cli("init", root)
    out = json.loads(cli("works", "add", root, port, "--claimant", ARTIST, "--json"))
    assert [a["title"] for a in out["added"]] == ["car.png", "watermelon.png"]
    assert [s["locator"].rsplit("/", 1)[-1] for s in out["skipped"]] == ["README.txt"]
    repo = tmp_path / "repo"
    shutil.copytree(data / "works" / "python-rsa", repo)
    shutil.copy(IMAGES / "car.png", repo / "logo.png")
    out = json.loads(cli("works", "add", root, repo, "--claimant", "Sybren", "--json"))
    assert [a["title"] for a in out["added"]] == ["repo"] and out["added"][0]["files"] > 1


def test_local_features_find_a_pasted_work_in_a_corpus_too_large_to_verify_every_pair(tmp_path):
    """Scan mode (exhaustive pairs 0): a work pasted at 60 % into another picture moves its whole-image code far
    from every query variant; with --local-features the corpus's feature table votes it in and compare.py
    verifies the region."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bg = rgb("the_moon.png").resize((600, 600))
    bg.paste(rgb("car.png").resize((360, 255)), (120, 200))
    (corpus / "pasted.png").write_bytes(png(bg))
    (corpus / "other.png").write_bytes(png(rgb("watermelon.png")))
    found = {}
    for flag in ([], ["--local-features"]):
        root = tmp_path / f"case{len(flag)}"
        cli("init", root)
        cli("works", "add", root, IMAGES / "car.png", "--claimant", ARTIST)
        cli("corpus", "add", root, "c", corpus, *flag)
        cli("match", root, "--image-exhaustive-pairs", "0", "--allow-empty")
        found[bool(flag)] = evidence(Case.open(root))
    assert "pasted.png" not in found[False]
    pasted = found[True]["pasted.png"]
    assert pasted["tier"] == "region_copy" and "local features" in pasted["facts"]["candidate_by"]
    x0, y0, x1, y1 = pasted["copy_region"]
    assert abs(x0 - 0.2) < 0.03 and abs(y0 - 200 / 600) < 0.03 and abs(x1 - 0.8) < 0.03
    assert "other.png" not in found[True]
