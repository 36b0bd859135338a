"""A full disk (issue 26, item 16): `corpus add` and `match` end with one line that names the folder, leave no
temporary file behind, and the same command resumes once there is space. Needs root to mount a small tmpfs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from ascertain.cli import app

runner = CliRunner()


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.decode().strip()})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_one_line_naming_the_folder_and_leaves_no_temporary_file(small_disk, tmp_path, data):
    corpus = tmp_path / "corpus"
    for i in range(8):  # ~6 MB of varied text: more than the 3 MB disk holds once indexed with its texts
        shutil.copytree(data / "corpus", corpus / f"copy{i}")
        (corpus / f"copy{i}" / "filler.txt").write_text(" ".join(f"w{(i * 7919 + j) % 99991}"
                                                                  for j in range(120_000)))
    case = small_disk / "case"
    assert runner.invoke(app, ["init", str(case)]).exit_code == 0
    r = runner.invoke(app, ["corpus", "add", str(case), "big", str(corpus)])
    assert r.exit_code == 2, r.output
    assert "disk is full" in r.output and "Traceback" not in r.output and str(small_disk) in r.output
    assert not list(case.rglob("*.tmp")), list(case.rglob("*.tmp"))


def test_match_on_a_full_disk_is_one_line_too(small_disk, data):
    case = small_disk / "case"
    assert runner.invoke(app, ["init", str(case)]).exit_code == 0
    assert runner.invoke(app, ["works", "import", str(case), str(data / "works.csv")]).exit_code == 0
    assert runner.invoke(app, ["corpus", "add", str(case), "c", str(data / "corpus")]).exit_code == 0
    with open(small_disk / "filler", "wb", buffering=0) as fh:  # the rest of the disk taken by something else
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass
    r = runner.invoke(app, ["match", str(case)])
    assert r.exit_code == 2, r.output
    assert "disk is full" in r.output and "Traceback" not in r.output
