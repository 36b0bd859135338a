from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ascertain.cli import app
from ascertain.match.compare import Comparer

runner = CliRunner()


def compare_json(*args: str) -> dict:
    r = runner.invoke(app, ["compare", *args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_whitespace_only_copy_is_token_identical_not_byte_identical(tmp_path, rsa_file):
    copy = tmp_path / "copy.py"
    copy.write_text("\n\n".join(line.replace("    ", "\t") for line in rsa_file.read_text().splitlines()))
    r = compare_json(str(rsa_file), str(copy))
    assert r["copied"] and r["coverage"] == 1.0 and r["identical"] and not r["byte_identical"]
    assert r["fragments"] == 1 and r["longest_run_tokens"] == r["work_tokens"]
    span = r["spans"][0]
    assert span["original_lines"] == [1, 96] and span["copy_lines"][0] == 1
    text = runner.invoke(app, ["compare", str(rsa_file), str(copy)]).output
    assert "identical at token level, not byte for byte" in text


def test_byte_identical_copy(rsa_file):
    r = compare_json(str(rsa_file), str(rsa_file))
    assert r["identical"] and r["byte_identical"] and r["coverage"] == 1.0


def test_shared_license_header_alone_is_not_copied(data):
    """Two unrelated Amazon files share the whole Apache-2.0 header: CMI, not the work's expression."""
    work = data / "works" / "boto3" / "utils.py"
    other = data / "corpus" / "unrelated" / "hooks_botocore.py"
    r = compare_json(str(work), str(other))
    assert not r["copied"]
    assert r["spans"] and all(s["cmi_tokens"] * 2 > s["tokens"] for s in r["spans"])


def test_partial_copy_lines(tmp_path, data):
    work = data / "works" / "pygments" / "go.py"
    lines = work.read_text().splitlines(keepends=True)
    part = tmp_path / "part.py"
    part.write_text("# my own file\nimport os\n\n" + "".join(lines[30:60]))
    r = compare_json(str(work), str(part))
    assert r["copied"] and 0.1 < r["coverage"] < 0.6
    big = max(r["spans"], key=lambda s: s["tokens"])
    assert big["original_lines"][0] in (31, 32) and big["original_lines"][1] == 60
    assert big["copy_lines"][0] in (4, 5) and big["copy_lines"][1] == 33


def test_unrelated_files_are_not_copied(data):
    pairs = [(data / "works" / "boto3" / "compat.py", data / "corpus" / "unrelated" / "compat_botocore.py"),
             (data / "works" / "pygments" / "go.py", data / "corpus" / "unrelated" / "pony_lexers.py")]
    for a, b in pairs:
        assert not compare_json(str(a), str(b))["copied"]


def test_batch_reuses_state_and_reports_bad_lines(tmp_path, data, rsa_file):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join([
        json.dumps({"original": str(rsa_file), "copy": str(rsa_file)}),
        "{broken",
        json.dumps({"original": str(rsa_file), "copy": str(tmp_path / "missing.py")}),
        json.dumps({"original": str(rsa_file), "copy": str(data / "corpus" / "unrelated" / "six.py")}),
    ]) + "\n")
    r = runner.invoke(app, ["compare", "--batch", str(pairs)])
    assert r.exit_code == 0
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert rows[0]["copied"] and rows[3]["copied"] is False
    assert "error" in rows[1] and "pairs.jsonl:2" in rows[1]["error"]
    assert "no such file" in rows[2]["error"]


def test_errors_exit_2_with_a_fix(tmp_path, rsa_file):
    r = runner.invoke(app, ["compare", str(rsa_file), str(tmp_path / "nope.py")])
    assert r.exit_code == 2 and "no such file" in r.output and "fix:" in r.output
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\0\1\2" * 100)
    r = runner.invoke(app, ["compare", str(rsa_file), str(binary)])
    assert r.exit_code == 2 and "binary" in r.output


def test_comparer_is_reusable(rsa_file):
    c = Comparer()
    assert c.compare(str(rsa_file), str(rsa_file))["copied"]
    assert isinstance(Path(str(rsa_file)), Path)
