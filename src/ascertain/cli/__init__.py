"""The `ascertain` command: one module per command group, each registering its commands on the one app.

`common` holds the app, its groups and what every module shares; the modules import it (and at most, lazily, a
helper of another module), never this package.
"""

import importlib

from ascertain.cli.common import app

# each module registers its commands on `app` when imported; this order is their order in `ascertain --help`
for _module in ("case_cmds", "works", "sources", "match", "compare", "show", "cmi", "validate", "report", "classes",
                "web", "probe", "exchange", "provenance", "signing", "watermark"):
    importlib.import_module(f"ascertain.cli.{_module}")

__all__ = ["app"]
