"""Every input format becomes one stream of Document and Skip items.

`read_inputs(paths, options)` is the only entry point the stages use. Each bad record becomes a Skip that
names the input, where in it, what is wrong and how to fix it; the stream goes on.
"""

from ascertain.readers.base import Document, ReadOptions, Skip
from ascertain.readers.dispatch import check_inputs, read_inputs

__all__ = ["Document", "ReadOptions", "Skip", "check_inputs", "read_inputs"]
