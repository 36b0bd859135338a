"""A case folder: case.json (config), the store (SQLite by default), and index/ (one folder a source)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ascertain import __version__
from ascertain.errors import AscertainError
from ascertain.fingerprint.winnow import Params
from ascertain.store import Store

CONFIG = "case.json"


@dataclass
class Case:
    root: Path
    config: dict
    store: Store

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def params(self) -> Params:
        p = self.config["fingerprint"]
        return Params(k=int(p["k"]), w=int(p["w"]))

    def source_dir(self, name: str) -> Path:
        return self.index_dir / name

    def stable_path(self, path: str) -> str:
        """A path that does not depend on the folder a command ran from: relative to the case folder when
        inside it, else absolute (links kept as named)."""
        full, root = os.path.abspath(path), os.path.abspath(self.root)
        return os.path.relpath(full, root) if full.startswith(root + os.sep) else full

    @classmethod
    def init(cls, root: Path, store_url: str | None = None, k: int = 8, w: int = 13) -> Case:
        root = Path(root)
        if (root / CONFIG).exists():
            raise AscertainError(str(root), "is already a case", "open it, or choose another folder")
        if root.exists() and any(root.iterdir()):
            raise AscertainError(str(root), "exists and is not empty", "choose a new or empty folder")
        if k < 2 or w < 1:
            raise AscertainError("--k/--w", f"k={k}, w={w} are out of range", "use k >= 2 and w >= 1")
        root.mkdir(parents=True, exist_ok=True)
        (root / "index").mkdir()
        config = {
            "ascertain_version": __version__,
            "store_url": store_url or "sqlite:///store.sqlite",
            "fingerprint": {"k": k, "w": w},
        }
        (root / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        return cls.open(root)

    @classmethod
    def open(cls, root: Path) -> Case:
        root = Path(root)
        try:
            config = json.loads((root / CONFIG).read_text())
        except FileNotFoundError as e:
            raise AscertainError(str(root), "is not a case folder (no case.json)",
                                 f"create it with `ascertain init {root}`") from e
        except json.JSONDecodeError as e:
            raise AscertainError(str(root / CONFIG), f"is not valid JSON ({e})", "repair the file") from e
        url = config.get("store_url", "sqlite:///store.sqlite")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{(root / url[len('sqlite:///'):]).resolve()}"  # relative to the case folder
        return cls(root, config, Store(url))
