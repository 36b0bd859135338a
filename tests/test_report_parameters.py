"""Every parameter the report shows is the one the match run applied (its manifest), each with its meaning, and
the methods text names the winnowing the run used (issue 23 §2: `common_df` was shown 0 while 5 was applied,
"rightmost minimum" beside "robust winnowing", two meanings blank)."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

from ascertain.case import Case
from ascertain.match.run import MatchOptions, run_match
from ascertain.readers import ReadOptions
from ascertain.report.build import build_report
from ascertain.sources import add_source
from ascertain.works import import_manifest


def test_each_shown_parameter_is_the_applied_one(tmp_path, data):
    case = Case.init(tmp_path / "case")
    import_manifest(case, str(data / "works.csv"))
    add_source(case, "corpus", "corpus", [str(data / "corpus")], ReadOptions())
    add_source(case, "outputs", "outputs", [str(data / "outputs.jsonl")], ReadOptions(text_field="completion"))
    run = run_match(case, MatchOptions())
    params = json.loads(Path(run["report"]).read_bytes())["manifest"]["parameters"]
    assert params["thresholds"]["common_df"] == 0 and params["common_df_applied"] == {"corpus": 5, "outputs": 5}
    page = (Path(build_report(case, tmp_path / "r", inline_exhibits=0)["out"]) / "report.html").read_text()
    section = page.split("Methods and parameters</h2>")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td><code>([^<]+)</code></td><td[^>]*>(.*?)</td><td>(.*?)</td></tr>", section, re.S)
    shown = {name: (html_lib.unescape(value), html_lib.unescape(meaning)) for name, value, meaning in rows}
    applied = {**params["fingerprint"], **params["thresholds"], "max_seed_df": params["max_seed_df"],
               "max_hash_hits": params["max_hash_hits"], "common_df": params["common_df_applied"]["corpus"],
               "level": "auto (corpus), layout (outputs)"}
    assert params["levels_applied"] == {"corpus": "auto", "outputs": "layout"}  # the defaults of corpus/outputs add
    assert set(shown) == set(applied)
    for name, value in applied.items():
        assert shown[name][0] == (value if isinstance(value, str) else json.dumps(value)), name
        assert shown[name][1].strip(), f"{name} has no meaning"
    methods = page.split("Methods and parameters</h2>")[1].split("<table>")[0]
    assert "robust winnowing" in params["fingerprint"]["hash"]
    assert "robust winnowing" in methods and "rightmost minimum" not in methods
    k, w = params["fingerprint"]["k"], params["fingerprint"]["w"]
    assert f"shared run of {2 * w + k - 1} tokens" in methods
