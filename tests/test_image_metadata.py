"""Metadata-only image datasets (LAION / DataComp / COYO layouts) as corpora, matched against claimants: names in
captions (exact, transliterated, typos, by / style / mention), domains and handles in URLs, titles, SHA-256 and
pHash; stored in the case and reported."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import imagehash
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.errors import AscertainError
from ascertain.match.caption_names import NameSet
from ascertain.match.metadata_hashes import parse_phash_column, work_phash
from ascertain.match.url_handles import UrlSet
from ascertain.readers.image_metadata import detect_layout, iter_batches, parse_mapping
from ascertain.store import schema
from ascertain.validation.images import skimage_folder

runner = CliRunner()


def _work_image(tmp: Path) -> Path:
    root = skimage_folder()
    if root is None or not (root / "astronaut.png").exists():
        pytest.skip("scikit-image's bundled images are not installed")
    p = tmp / "astronaut.png"
    p.write_bytes((root / "astronaut.png").read_bytes())
    return p


def _case_with_claimants(tmp: Path, work: Path) -> Path:
    case = tmp / "case"
    assert runner.invoke(app, ["init", str(case)]).exit_code == 0
    sha = hashlib.sha256(work.read_bytes()).hexdigest()
    ph = str(imagehash.phash(Image.open(work)))
    with open(tmp / "works.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "claimant", "aliases", "domains", "handles", "sha256", "phash"])
        w.writerow(["Portrait of Eileen Collins in Orbit", "Jörg Schilling", "", "https://www.schilling-art.example",
                    "jschilling", "", ""])
        w.writerow(["Pine Forest Morning", "Ivan Shishkin", "Иван Шишкин", "", "", "", ""])
        w.writerow(["Sunset", "Grace", "", "", "", "", ""])
        w.writerow(["Listed by hash only", "Ivan Shishkin", "", "", "", sha, ph])  # hashes given in the list
    r = runner.invoke(app, ["works", "import", str(case), str(tmp / "works.csv")])
    assert r.exit_code == 0, r.output
    # the image itself as a work of the same claimant (its bytes kept in the case: works_images.py)
    r = runner.invoke(app, ["works", "add", str(case), "--claimant", "Jörg Schilling", "--title", "Astronaut",
                            str(work)])
    assert r.exit_code == 0, r.output
    return case


def _laion(tmp: Path, work: Path) -> Path:
    sha = hashlib.sha256(work.read_bytes()).hexdigest()
    small = Image.open(work).convert("RGB").resize((256, 256))
    ph_copy = str(imagehash.phash(small))  # the image as a scraper resized it
    rows = [
        ("https://cdn.schilling-art.example/img/1.jpg", "portrait in orbit", 512, 512, None, None),
        ("https://www.deviantart.com/jschilling/art/orbit-123", "fan art", 600, 400, None, None),
        ("https://example.org/a.jpg", "Morning in a pine forest by Ivan Shishkin", 800, 600, None, None),
        ("https://example.org/b.jpg", "Иван Шишкин, Утро в сосновом лесу", 800, 600, None, None),
        ("https://example.org/c.jpg", "castle in the style of ivan shishkn, matte painting", 800, 600, None, None),
        ("https://example.org/d.jpg", "grace kelly at cannes", 800, 600, None, None),
        ("https://example.org/e.jpg", "amazing grace church choir", 800, 600, None, None),
        ("https://example.org/f.jpg", "Portrait of Eileen Collins in Orbit, print", 500, 500, None, None),
        ("https://example.org/g.jpg", "an unrelated caption about shishkinova street", 500, 500, sha, None),
        ("https://example.org/h.jpg", "resized copy", 256, 256, None, ph_copy),
        ("https://notschilling-art.example/x.jpg", "nothing", 500, 500, None, None),
    ]
    rows += [(f"https://example.org/n{i}.jpg", f"grace and peace {i}", 10, 10, None, None) for i in range(20)]
    t = pa.table({"URL": [r[0] for r in rows], "TEXT": [r[1] for r in rows], "WIDTH": [r[2] for r in rows],
                  "HEIGHT": [r[3] for r in rows], "sha256": [r[4] for r in rows],
                  "image_phash": [r[5] for r in rows]})
    p = tmp / "laion-part-00000.parquet"
    pq.write_table(t, p, row_group_size=4)
    return p


def test_end_to_end_evidence(tmp_path: Path) -> None:
    work = _work_image(tmp_path)
    case = _case_with_claimants(tmp_path, work)
    data = _laion(tmp_path, work)
    r = runner.invoke(app, ["corpus", "add", str(case), "laion", str(data), "--json"])
    assert r.exit_code == 0, r.output
    added = json.loads(r.output)
    assert added["kind"] == "image-metadata" and added["rows"] == 31
    r = runner.invoke(app, ["match", str(case)])
    assert r.exit_code == 0, r.output
    assert "image metadata: 31 rows" in r.output
    c = Case.open(case)
    with c.store.engine.connect() as conn:
        claimants = dict(conn.execute(select(schema.claimants.c.id, schema.claimants.c.name)).all())
        ev = conn.execute(select(schema.image_metadata_evidence)).mappings().all()
    got = {(claimants[e["claimant_id"]], e["kind"], e["match"], e["context"], e["row"]) for e in ev}
    assert ("Jörg Schilling", "url_domain", "exact", "url", 0) in got
    assert ("Jörg Schilling", "url_handle", "exact", "url", 1) in got
    assert ("Ivan Shishkin", "caption_name", "exact", "by", 2) in got
    assert ("Ivan Shishkin", "caption_name", "translit", "mention", 3) in got
    assert ("Ivan Shishkin", "caption_name", "fuzzy", "style", 4) in got
    assert ("Jörg Schilling", "caption_title", "exact", "distinctive", 7) in got
    assert ("Jörg Schilling", "sha256", "exact", "hash", 8) in got  # the image work's bytes
    assert ("Ivan Shishkin", "sha256", "exact", "hash", 8) in got  # the hash given in the works list
    assert any(g[:2] == ("Jörg Schilling", "phash") and g[4] == 9 for g in got)
    assert any(g[:2] == ("Ivan Shishkin", "phash") and g[4] == 9 for g in got)
    # no domain evidence for a look-alike host; "shishkinova" is another word
    assert not any(e["row"] in (8, 10) and e["kind"].startswith(("url", "caption_name")) for e in ev)
    # "Grace" is common in this corpus (22 of 31 captions): bare mentions are not stored
    assert not any(claimants[e["claimant_id"]] == "Grace" for e in ev)
    report = json.loads((case / "reports" / "image-metadata-evidence.json").read_text())
    assert report["manifest"]["per_source"]["laion"]["common_names"] == ["Grace"]
    assert report["manifest"]["counts"]["common_name_mentions_not_stored"]["Grace"] >= 20
    # the row locator names the file and row
    assert all(e["file"] == str(data) for e in ev)
    # the same inputs give the same report bytes
    first = (case / "reports" / "image-metadata-evidence.json").read_bytes()
    assert runner.invoke(app, ["match", str(case)]).exit_code == 0
    assert (case / "reports" / "image-metadata-evidence.json").read_bytes() == first
    r = runner.invoke(app, ["match", str(case), "--exact-names", "--json"])  # no typo hits, recorded
    assert r.exit_code == 0, r.output
    exact_only = json.loads((case / "reports" / "image-metadata-evidence.json").read_text())
    assert exact_only["manifest"]["parameters"]["fuzzy"] is False
    assert not any(e["match"] == "fuzzy" for e in exact_only["evidence"])
    assert runner.invoke(app, ["match", str(case)]).exit_code == 0
    r = runner.invoke(app, ["show", str(case), "--json"])
    assert r.exit_code == 0, r.output
    counts = {(x["claimant"], x["kind"], x["match"]): x["rows"] for x in json.loads(r.output)["image_metadata"]}
    assert counts[("Ivan Shishkin", "caption_name", "translit")] == 1
    r = runner.invoke(app, ["sources", "remove", str(case), "laion", "--yes"])
    assert r.exit_code == 0, r.output
    with c.store.engine.connect() as conn:
        assert conn.execute(select(schema.image_metadata_evidence)).first() is None


def test_layouts_and_mapping(tmp_path: Path) -> None:
    assert detect_layout(["uid", "url", "text", "original_width", "original_height", "sha256"], None, "f").name \
        == "datacomp"
    lay = detect_layout(["id", "url", "text", "width", "height", "image_phash"], None, "f")
    assert lay.name == "coyo" and lay.columns["phash"] == "image_phash"
    lay = detect_layout(["URL", "TEXT", "WIDTH", "HEIGHT", "similarity"], None, "f")
    assert lay.name == "laion" and lay.columns == {"url": "URL", "caption": "TEXT", "width": "WIDTH",
                                                   "height": "HEIGHT"}
    lay = detect_layout(["link", "alt_txt"], parse_mapping("url=link,caption=alt_txt"), "f")
    assert lay.name == "mapped" and lay.columns == {"url": "link", "caption": "alt_txt"}
    with pytest.raises(AscertainError, match="no column 'nope'"):
        detect_layout(["a"], {"url": "nope"}, "f.parquet")
    with pytest.raises(AscertainError, match="ROLE=COLUMN"):
        parse_mapping("address=link")
    with pytest.raises(AscertainError, match="not a known image-metadata layout"):
        detect_layout(["foo", "bar"], None, "f.parquet")


def test_bad_file_named(tmp_path: Path) -> None:
    bad = tmp_path / "part-1.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    case = tmp_path / "case"
    runner.invoke(app, ["init", str(case)])
    r = runner.invoke(app, ["corpus", "add", str(case), "x", str(bad), "--kind", "image-metadata"])
    assert r.exit_code == 2
    assert "part-1.parquet" in r.output and "not a readable Parquet file" in r.output


def test_web_text_parquet_stays_text(tmp_path: Path) -> None:
    """A C4-like Parquet (url + text, no image size or hash) is not taken for image metadata."""
    from ascertain.image_metadata_sources import looks_like_image_metadata

    p = tmp_path / "c4.parquet"
    pq.write_table(pa.table({"url": ["https://a.example/x"], "text": ["some page"], "timestamp": ["2020"]}), p)
    assert not looks_like_image_metadata([str(p)])
    q = tmp_path / "coyo.parquet"
    pq.write_table(pa.table({"id": [1], "url": ["https://a.example/x.jpg"], "text": ["t"],
                             "image_phash": ["e9e90c24f1d9c674"]}), q)
    assert looks_like_image_metadata([str(q)])
    shards = tmp_path / "shards"  # img2dataset output: tar shards beside their Parquet: an image corpus
    shards.mkdir()
    (shards / "00000.parquet").write_bytes(q.read_bytes())
    (shards / "00000.tar").write_bytes(b"")
    assert not looks_like_image_metadata([str(shards)])


def test_batches_bounded(tmp_path: Path) -> None:
    p = tmp_path / "big.parquet"
    pq.write_table(pa.table({"url": [f"u{i}" for i in range(10_000)], "text": ["t"] * 10_000}), p,
                   row_group_size=1000)
    lay = detect_layout(["url", "text"], None, str(p))
    batches = list(iter_batches(p, lay, batch_rows=1500))
    assert max(b.rows for b in batches) <= 1500 and sum(b.rows for b in batches) == 10_000
    assert [b.first_row for b in batches][:3] == [0, 1500, 3000]


def test_phash_column_and_work_hash(tmp_path: Path) -> None:
    rows, hashes = parse_phash_column(pa.array(["E9E90C24F1D9C674", None, "xyz", " bac58374982e0fc7 "]))
    assert rows.tolist() == [0, 3] and [f"{int(h):016x}" for h in hashes] == ["e9e90c24f1d9c674",
                                                                              "bac58374982e0fc7"]
    work = _work_image(tmp_path)
    assert f"{work_phash(work):016x}" == str(imagehash.phash(Image.open(work)))


def test_names_hard_negatives() -> None:
    ns = NameSet()
    for i, n in enumerate(["Ivan Shishkin", "Art Green", "Kay Nielsen"]):
        ns.add(n, i)
    ns.build()
    caps = ["a shishkinesque view", "art greenery", "modern art green wall", "kay nielsen illustration",
            "painted after Kay Nielsen", "kay nielson fairy tale", "Kai Nilsen"]
    hits = {(h.row, ns.names[h.target], h.kind, h.context) for h in ns.scan(caps)}
    assert (2, "Art Green", "exact", "mention") in hits  # the phrase is there: the corpus-rate check decides
    assert (3, "Kay Nielsen", "exact", "mention") in hits
    assert (4, "Kay Nielsen", "exact", "style") in hits
    assert (5, "Kay Nielsen", "fuzzy", "mention") in hits
    assert not any(r in (0, 1, 6) for r, *_ in hits)  # substrings of other words; two edits in a short name


def test_urls() -> None:
    us = UrlSet()
    us.add_domain("https://www.janedoe.com/portfolio", 1)
    us.add_domain("artstation.com", 1)  # an aggregator is nobody's domain
    us.add_handle("@janed", 1)
    us.build()
    urls = ["https://img.janedoe.com/a.jpg", "https://notjanedoe.com/a.jpg", "https://janed.artstation.com/x.jpg",
            "https://www.artstation.com/janed", "https://example.com/janed/a.jpg", None,
            "https://www.artstation.com/janedoe2"]
    hits = [(h.row, h.kind) for h in us.scan(urls)]
    assert hits == [(0, "url_domain"), (2, "url_handle"), (3, "url_handle")]


def test_two_claimants_of_one_name_both_found() -> None:
    ns = NameSet()
    ns.add("Maria Sibylla Merian", 1)
    ns.add("maria sibylla merian", 2)  # another claimant, the same name
    ns.add("Maria Sibylla Merian", 1)  # listed twice for the same claimant: once
    ns.build()
    hits = ns.scan(["Plate 12, by Maria Sibylla Merian"])
    assert sorted(ns.owner[h.target] for h in hits) == [1, 2]


def test_arrow_normalization_equals_python() -> None:
    from ascertain.match.caption_names import normalize, normalize_column

    caps = ["Art by Jörg  Schilling!", None, "line one\nline two", "Иван Шишкин — утро", "  ", "A_B-C.d", "ÆSIR ß"]
    assert normalize_column(pa.array(caps, pa.string())) == [normalize(c) if c else "" for c in caps]
