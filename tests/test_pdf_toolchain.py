"""What a byte-reproducible report.pdf needs from the machine (issue 26, item 17)."""

from __future__ import annotations


def test_report_needs_harfbuzz_subset_for_reproducible_pdfs():
    """Issue 26, item 17: without HarfBuzz-Subset two reports of one case differ in their font bytes."""
    from ascertain.report.pdf_toolchain import missing_pdf_libraries

    assert missing_pdf_libraries() is None  # installed here, as .ci/run installs it
    missing = missing_pdf_libraries(("libno-such-harfbuzz-subset.so.0",))
    assert missing and "HarfBuzz-Subset" in missing
