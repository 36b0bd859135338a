"""What a byte-reproducible report.pdf needs from the machine, checked before a report is written.

WeasyPrint subsets the embedded fonts with HarfBuzz-Subset when the library is installed and falls back to
another subsetter when it is not; the two give different font bytes, so the same case would give different
PDFs on two machines (issue 26, item 17). `ascertain report` therefore refuses without it, unless told to
accept a PDF that is reproducible only on machines like this one.
"""

from __future__ import annotations

import ctypes

HARFBUZZ_SUBSET = ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib", "libharfbuzz-subset-0.dll")
INSTALL = ("install it (Debian/Ubuntu: `apt-get install libharfbuzz-subset0 fonts-dejavu-core`; macOS: "
           "`brew install harfbuzz`), or pass --allow-unreproducible-pdf to write the report anyway")


def missing_pdf_libraries(names: tuple[str, ...] = HARFBUZZ_SUBSET) -> str | None:
    """None when HarfBuzz-Subset loads; else what is missing, for the message."""
    for name in names:
        try:
            ctypes.CDLL(name)
            return None
        except OSError:
            continue
    return "the HarfBuzz-Subset library (" + " / ".join(names) + ")"
