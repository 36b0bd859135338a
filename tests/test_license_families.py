"""Licence identification among near-identical families: HPND is not SMLNJ or NTP, ISC is not 0BSD, BSD-3 is
not a BSD-3 variant with an extra clause (issue 23 §6). Texts from real files."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from ascertain.cmi.license_texts import find_texts, template_shingles
from ascertain.cmi.scan import scan_text
from ascertain.validation.license_families import _notice_blocks, _notice_label

# Debian's libgd3 copyright, `License: HPND` (src/gd_gif_out.c, Jef Poskanzer)
HPND_SHORT = """/*
 * Copyright 1989 Jef Poskanzer
 *
 * Permission to use, copy, modify, and distribute this software and its
 * documentation for any purpose and without fee is hereby granted,
 * provided that the above copyright notice appear in all copies and that
 * both that copyright notice and this permission notice appear in
 * supporting documentation.  This software is provided "as is" without
 * express or implied warranty.
 */
"""
# the c-ares notice in pyarrow's LICENSE.txt (M.I.T., 1998): HPND with the name and suitability clauses
HPND_MIT = """Copyright 1998 by the Massachusetts Institute of Technology.

Permission to use, copy, modify, and distribute this software and its
documentation for any purpose and without fee is hereby granted,
provided that the above copyright notice appear in all copies and that
both that copyright notice and this permission notice appear in
supporting documentation, and that the name of M.I.T. not be used in
advertising or publicity pertaining to distribution of the software
without specific, written prior permission.  M.I.T. makes no
representations about the suitability of this software for any
purpose.  It is provided "as is" without express or implied warranty.
"""
# curl's copyright file, `License: ISC`
ISC = """Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
"""
# networkx's LICENSE.txt: BSD-3-Clause worded "COPYRIGHT OWNER OR CONTRIBUTORS"
BSD3 = """Copyright (c) 2004-2025, NetworkX Developers
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are
met:

  * Redistributions of source code must retain the above copyright
    notice, this list of conditions and the following disclaimer.

  * Redistributions in binary form must reproduce the above
    copyright notice, this list of conditions and the following
    disclaimer in the documentation and/or other materials provided
    with the distribution.

  * Neither the name of the NetworkX Developers nor the names of its
    contributors may be used to endorse or promote products derived
    from this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
"AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
OWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
(INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


@pytest.mark.parametrize(("text", "spdx"), [(HPND_SHORT, "HPND"), (HPND_MIT, "HPND"), (ISC, "ISC"),
                                            (BSD3, "BSD-3-Clause")])
def test_near_identical_licences_are_told_apart(text, spdx):
    found = find_texts(text)
    assert found and found[0].spdx == spdx, found[:3]
    licenses = scan_text("f.c", text, "c")["licenses"]
    assert [h["spdx"] for h in licenses if h["rule"].startswith("spdx-")] == [spdx]


def test_the_standard_library_hpnd_header_is_hpnd():
    """logging/__init__.py (Vinay Sajip): the HPND header that was named SMLNJ / NTP."""
    text = (Path(sysconfig.get_paths()["stdlib"]) / "logging" / "__init__.py").read_text(encoding="utf-8")
    assert [h["spdx"] for h in scan_text("logging/__init__.py", text, "python")["licenses"]] == ["HPND"]


def test_optional_parts_and_placeholders_of_plain_spdx_texts():
    grams, size = template_shingles("Permission to use, copy, modify [and] distribute this software for any "
                                    "purpose [with or without fee] is hereby granted to <copyright holder> now.")
    without = template_shingles("Permission to use, copy, modify distribute this software for any purpose is "
                                "hereby granted to")[0]
    assert without <= grams  # every reading without the optional parts is indexed
    assert size == len(without)  # and the share counts against the shortest reading


def test_notice_labels_follow_the_spdx_wording():
    assert _notice_label(HPND_SHORT) == "HPND" and _notice_label(HPND_MIT) == "HPND"
    assert _notice_label(ISC) == "ISC" and _notice_label(BSD3) is None
    (block,) = _notice_blocks(HPND_SHORT + "int main(void) { return 0; }\n")
    assert block.strip().endswith("express or implied warranty.") and "main" not in block
