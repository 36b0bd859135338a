"""COYO-700M's `image_phash` convention: the layout measured (every documented value has the top bit that
imagehash's layout sets for every real image), a value computed the documented way here (32 x 32 grey, DCT-II,
8 x 8 lowest frequencies above their median, row-major, most significant bit first, 16 hex digits) without
imagehash equals the work's hash, and a COYO-layout Parquet holding it (as text, upper case, with 0x, or as a
signed 64-bit integer) is matched to the work exactly or within the threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image
from scipy.fft import dct
from sqlalchemy import select
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.match.metadata_hashes import parse_phash_column, work_phash, work_phashes
from ascertain.store import schema
from ascertain.validation.coyo_phash import DOCUMENTED, phash_org_layout, top_bit_rates

WORKS = Path(__file__).resolve().parents[1] / "src" / "ascertain" / "demo_data" / "images" / "works"
runner = CliRunner()


def documented_phash(path: Path) -> str:
    """pHash as COYO documents it, computed here with scipy (not imagehash)."""
    with Image.open(path) as im:
        grey = np.asarray(im.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    low = dct(dct(grey, type=2, axis=0), type=2, axis=1)[:8, :8]
    bits = (low > np.median(low)).ravel()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def test_the_layout_is_imagehash_s_not_phash_org_s():
    assert all(int(v, 16) >> 63 for v in DOCUMENTED)  # all seven documented values
    works = sorted(WORKS.glob("*"))
    r = top_bit_rates(works)
    assert r["images"] == len(works) and r["imagehash_top_bit"] == len(works)
    # phash.org's layout leaves the top bit to the (8, 8) coefficient: not set for every image
    assert r["phash_org_top_bit"] < len(works)
    for p in works:
        with Image.open(p) as im:
            assert 0 <= phash_org_layout(np.asarray(im.convert("RGB"))) < 1 << 64


def test_the_documented_computation_gives_the_work_s_hash():
    for p in sorted(WORKS.glob("*")):
        assert f"{work_phash(p):016x}" == documented_phash(p), p.name


def test_transparent_works_get_the_decoded_and_the_flattened_hash(tmp_path):
    rgba = Image.open(WORKS / "jupiter.png").convert("RGBA")
    a = np.asarray(rgba).copy()
    a[: a.shape[0] // 3, :, 3] = 0  # the top third transparent
    a[: a.shape[0] // 3, :, :3] = 0  # (stored black, as most editors write it)
    p = tmp_path / "transparent.png"
    Image.fromarray(a, "RGBA").save(p)
    hs = work_phashes(p)
    assert len(hs) == 2 and f"{hs[0]:016x}" == documented_phash(p)


def test_the_column_s_encodings():
    value = 0xE9E90C24F1D9C674
    signed = value - (1 << 64)  # as a signed 64-bit integer column holds it
    for col in (pa.array(["E9E90C24F1D9C674", None, "0xe9e90c24f1d9c674", "zz"]),
                pa.array([signed, None, signed, None], pa.int64()), pa.array([value, None, value, None], pa.uint64())):
        rows, hashes = parse_phash_column(col)
        assert rows.tolist() == [0, 2] and [int(h) for h in hashes] == [value, value]


def test_a_coyo_row_holding_the_documented_value_is_matched(tmp_path):
    work = WORKS / "saturn.jpg"
    value = documented_phash(work)
    near = f"{int(value, 16) ^ 0b101:016x}"  # two bits differ: within the threshold
    far = f"{int(value, 16) ^ 0xFF:016x}"  # eight differ: not
    coyo = tmp_path / "coyo"
    coyo.mkdir()
    pq.write_table(pa.table({
        "id": [11, 12, 13, 14], "url": [f"https://img.example/{i}.jpg" for i in range(4)],
        "text": ["a ringed planet", "planet poster", "abstract", "unrelated"],
        "width": [640, 640, 640, 640], "height": [480, 480, 480, 480],
        "image_phash": [value, near, far, "c9b6a7d8469c1959"]}), coyo / "part-00000.parquet")
    case = tmp_path / "case"
    assert runner.invoke(app, ["init", str(case)]).exit_code == 0
    r = runner.invoke(app, ["works", "add", str(case), "--claimant", "A. Painter", "--title", "Saturn", str(work)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["corpus", "add", str(case), "coyo", str(coyo), "--kind", "image-metadata", "--json"])
    assert r.exit_code == 0, r.output
    assert runner.invoke(app, ["match", str(case)]).exit_code == 0
    with Case.open(case).store.engine.connect() as conn:
        hits = [dict(r) for r in conn.execute(select(schema.image_metadata_evidence)
                                              .where(schema.image_metadata_evidence.c.kind == "phash")).mappings()]
    got = sorted((h["row"], h["match"], h["distance"], h["matched"]) for h in hits)
    assert got == [(0, "exact", 0, value), (1, "hamming", 2, near)]
