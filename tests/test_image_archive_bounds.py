"""A hostile image archive of very many tiny members is bounded: a webdataset tar stops at the member bound with a
recorded skip naming the archive and the fix (the members before it indexed, the source complete); a zip whose
end record declares more members than the bound is refused before zipfile lists it; other inputs are read; the
bound is recorded and raised with --max-archive-members."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from ascertain.case import Case
from ascertain.cli import app
from ascertain.readers.zip_listing import declared_members, first_names
from ascertain.sources import list_sources
from ascertain.sources_images import IMAGE_ARCHIVE_MEMBERS, looks_like_images

DEMO = Path(__file__).resolve().parents[1] / "src" / "ascertain" / "demo_data" / "images" / "works"
runner = CliRunner()


def _tiles(n: int) -> list[bytes]:
    """n distinct tiny PNGs cut from a real photograph (8 x 8 pixels each)."""
    a = np.asarray(Image.open(DEMO / "jupiter.png").convert("RGB"))
    out = []
    for i in range(n):
        y, x = (i * 8) // a.shape[1] * 8 % (a.shape[0] - 8), (i * 8) % (a.shape[1] - 8)
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(a[y:y + 8, x:x + 8])).save(buf, "PNG")
        out.append(buf.getvalue())
    return out


def _shard(path: Path, tiles: list[bytes]) -> None:
    with tarfile.open(path, "w") as tf:
        for i, data in enumerate(tiles):
            for ext, body in ((".png", data), (".txt", f"tile {i}".encode())):
                ti = tarfile.TarInfo(f"{i:06d}{ext}")
                ti.size = len(body)
                tf.addfile(ti, io.BytesIO(body))


def test_many_member_archives_stop_at_the_bound_with_a_recorded_skip(tmp_path):
    tiles = _tiles(120)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _shard(inputs / "00000.tar", tiles)  # 240 members
    with zipfile.ZipFile(inputs / "many.zip", "w") as zf:
        for i, data in enumerate(tiles):
            zf.writestr(f"{i:06d}.png", data)
    (inputs / "work.png").write_bytes((DEMO / "jupiter.png").read_bytes())
    assert looks_like_images([str(inputs)])  # the zip's names peeked from its central directory
    case = tmp_path / "case"
    assert runner.invoke(app, ["init", str(case)]).exit_code == 0
    r = runner.invoke(app, ["corpus", "add", str(case), "shards", str(inputs), "--max-archive-members", "100",
                            "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output[r.output.index("{"):])
    assert summary["documents"] == 50 + 1  # the shard's first 100 members (50 samples) and the loose image
    c = Case.open(case)
    src = next(s for s in list_sources(c) if s["name"] == "shards")
    assert src["status"] == "complete"
    skips = json.loads(runner.invoke(app, ["show", str(case), "--skipped", "--json"]).output)
    reasons = {Path(s["locator"]).name: (s["reason"], s["fix"]) for s in skips}
    assert reasons["00000.tar"][0].startswith("more than 100 members; the first ones were read")
    assert "--max-archive-members" in reasons["00000.tar"][1]
    assert reasons["many.zip"][0] == ("the zip archive declares 120 members, over the bound of 100 members for one "
                                      "archive; none was read")
    assert "--max-archive-members" in reasons["many.zip"][1]
    with c.store.engine.connect() as conn:
        from sqlalchemy import select

        from ascertain.store import schema

        params = conn.execute(select(schema.sources.c.params).where(schema.sources.c.name == "shards")).scalar_one()
    assert params["max_archive_members"] == 100
    # raised: everything is read
    r = runner.invoke(app, ["corpus", "add", str(case), "all", str(inputs), "--max-archive-members", "1000",
                            "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output[r.output.index("{"):])["documents"] == 120 + 120 + 1
    assert IMAGE_ARCHIVE_MEMBERS == 250_000  # the default for images (docs/methods.md)


def test_the_zip_end_record_is_read_without_listing(tmp_path):
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.comment = b"x" * 300  # the end record is found behind a comment
        for i in range(5):
            zf.writestr(f"d/{i}.jpg", b"")
    assert declared_members(plain) == 5 and first_names(plain, 3) == ["d/0.jpg", "d/1.jpg", "d/2.jpg"]
    big = tmp_path / "z64.zip"  # over 65,535 members: the counts are in the zip64 end record
    with zipfile.ZipFile(big, "w") as zf:
        for i in range(65_600):
            zf.writestr(f"{i}.png", b"")
    assert declared_members(big) == 65_600 and first_names(big, 2) == ["0.png", "1.png"]
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"no archive here")
    assert declared_members(not_zip) is None and first_names(not_zip, 3) == []
