from __future__ import annotations

import pytest
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, String

from ascertain.text.boilerplate import cmi_mask
from ascertain.text.languages import language_of
from ascertain.text.tokenize import COMMENT, STRING, norm_tokens, tokenize

# Known difference: expressions interpolated in JS template strings (`${x}`) count as string here.
SAMPLES = {
    "python": 'x = "a # not a comment"  # real comment\ns = \'\'\'doc\nstring\'\'\'\ny = 1\n',
    "javascript": 'let s = "// no"; // yes\n/* block\n comment */ let t = `tmpl text`;\n',
    "java": 'String s = "/* no */"; // yes\nchar c = \'x\'; /* block */ int i = 2;\n',
    "c": '#include <stdio.h>\nint main() { printf("%d // no\\n", 1); /* yes */ return 0; } // end\n',
    "go": 'package main\n// comment\nvar s = `raw // no`\nvar r = \'x\'\n',
    "rust": 'fn f<\'a>(x: &\'a str) -> char { let s = "// no"; \'c\' } // yes\n',
    "ruby": 'x = "# no" # yes\n=begin\nblock comment\n=end\ny = \'z\'\n',
    "typescript": 'const s: string = "// no"; // yes\n',
    "cpp": 'std::string s = "/* no */"; // yes\n',
}


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_comment_and_string_kinds_agree_with_pygments(language):
    """Every word token that Pygments puts in a comment or a string, we put there too (and vice versa)."""
    text = SAMPLES[language]
    ts = tokenize(text, language)
    lexer = get_lexer_by_name(language)
    ours = {int(s): ("comment" if k == COMMENT else "string" if k == STRING else "code")
            for s, k, tok in zip(ts.start, ts.kind, ts.raw, strict=True) if tok.isalnum()}
    ref = pygments_kinds(lexer, text)
    disagreements = {s: (ours[s], ref.get(s)) for s in ours if ref.get(s) not in (None, ours[s])}
    assert not disagreements, disagreements


def pygments_kinds(lexer, text: str) -> dict[int, str]:
    kinds: dict[int, str] = {}
    for start, ttype, value in lexer.get_tokens_unprocessed(text):
        if ttype in Comment.Preproc or ttype in Comment.PreprocFile:
            kind = "code"
        elif ttype in Comment:
            kind = "comment"
        elif ttype in String:
            kind = "string"
        else:
            kind = "code"
        for i in range(len(value)):
            kinds[start + i] = kind
    return kinds


def test_fast_and_detailed_paths_agree(rsa_file):
    text = rsa_file.read_text()
    assert norm_tokens(text) == tokenize(text, "python").norm


def test_nfkc_casefold_and_lines():
    ts = tokenize("ﬁle Straße\nSECOND line", "prose")
    assert ts.norm == ["file", "strasse", "second", "line"]
    assert ts.raw[0] == "file" and ts.raw[1] == "Straße"
    assert ts.line.tolist() == [1, 1, 2, 2]


def test_license_header_is_masked_but_code_is_not(rsa_file):
    text = rsa_file.read_text()
    ts = tokenize(text, language_of(str(rsa_file)))
    mask = cmi_mask(ts, "python", str(rsa_file))
    masked_lines = sorted({int(x) for x in ts.line[mask]})
    assert masked_lines == list(range(1, 14))  # the Apache-2.0 header, and nothing else
    assert cmi_mask(ts, "prose", "LICENSE").all()
