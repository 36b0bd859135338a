"""The medium test is one light module: every stage asks it, so importing it loads no decoder or table library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ascertain
from ascertain.media import is_image_manifest, is_image_source


def test_the_medium_predicates():
    assert is_image_source({"medium": "image", "acquired": "x"})
    assert not is_image_source({"level": "layout"}) and not is_image_source(None) and not is_image_source({})
    assert is_image_manifest({"medium": "image", "shards": []}) and not is_image_manifest({"shards": []})
    assert not is_image_manifest(None)


def test_the_medium_module_is_light():
    src = str(Path(ascertain.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    probe = "import sys, ascertain.media; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    modules = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                                 check=True).stdout.split())
    assert not modules & {"numpy", "pyarrow", "PIL", "sqlalchemy", "cv2"}, modules
