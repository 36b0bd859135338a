/* Token scanning and hashing in one pass over a byte buffer: the hot loop of corpus indexing.
 *
 * Same definition as the NumPy reference in vectorized.py (tests/test_fingerprint_paths.py checks they
 * agree): a token is a maximal run of word bytes (ASCII letters, digits, '_', every byte >= 0x80) or a
 * single other non-space byte; its hash is the polynomial sum(c[j] * B^(len-1-j)) mod 2^64, xor
 * len * LEN_MIX, through the splitmix64 finalizer. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define B 0x100000001B3ULL
#define LEN_MIX 0x9E3779B97F4A7C15ULL

enum { SPACE = 0, WORD = 1, PUNCT = 2 };
static unsigned char CLS[256];

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

/* tokens(buf, starts, ends, hashes) -> number of tokens written.
 * starts and ends are writable int64 buffers, hashes a writable uint64 buffer, each of len(buf) items. */
static PyObject *tokens(PyObject *self, PyObject *args) {
    Py_buffer in, st, en, hs;
    if (!PyArg_ParseTuple(args, "y*w*w*w*", &in, &st, &en, &hs))
        return NULL;
    Py_ssize_t n = in.len, t = 0, i = 0;
    if (st.len < n * 8 || en.len < n * 8 || hs.len < n * 8) {
        PyBuffer_Release(&in); PyBuffer_Release(&st); PyBuffer_Release(&en); PyBuffer_Release(&hs);
        PyErr_SetString(PyExc_ValueError, "output buffers must hold len(buf) 8-byte items");
        return NULL;
    }
    const unsigned char *b = (const unsigned char *)in.buf;
    int64_t *S = (int64_t *)st.buf, *E = (int64_t *)en.buf;
    uint64_t *H = (uint64_t *)hs.buf;
    Py_BEGIN_ALLOW_THREADS
    while (i < n) {
        unsigned char c = CLS[b[i]];
        if (c == SPACE) { i++; continue; }
        Py_ssize_t s = i;
        uint64_t h = b[i++];
        if (c == WORD)
            while (i < n && CLS[b[i]] == WORD)
                h = h * B + b[i++];
        H[t] = mix64(h ^ ((uint64_t)(i - s) * LEN_MIX));
        S[t] = s;
        E[t] = i;
        t++;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&in); PyBuffer_Release(&st); PyBuffer_Release(&en); PyBuffer_Release(&hs);
    return PyLong_FromSsize_t(t);
}

#define KB 0x100000001B3ULL
#define POS_MASK ((1ULL << 28) - 1)

/* SipHash-2-4 (Aumasson & Bernstein 2012) of one 8-byte little-endian message: the keyed k-gram hash of a
 * keyed index. Same as vectorized.siphash64 (tests/test_keyed_winnowing.py checks both against the paper's
 * test vector through a plain-Python SipHash). */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
    } while (0)

static inline uint64_t siphash8(uint64_t k0, uint64_t k1, uint64_t m) {
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    const uint64_t b = 8ULL << 56;
    v3 ^= m; SIPROUND; SIPROUND; v0 ^= m;
    v3 ^= b; SIPROUND; SIPROUND; v0 ^= b;
    v2 ^= 0xff; SIPROUND; SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* winnow(token_hashes, doc_first_token, doc_tokens, k, w, out_hash, out_doc, out_pos[, k0, k1]) -> count, or
 * -1 when the outputs cannot hold every pick (the caller retries with room for one pick per k-gram).
 * With a SipHash key (k0, k1) every k-gram hash is keyed before winnowing: which k-grams are picked then
 * depends on the key too, so the picked positions reveal nothing of the text without it.
 * Per document: k-gram hashes (Horner over k token hashes, mix64), then robust winnowing (Schleimer et al.
 * 2003, section 4.1) as in vectorized.winnow_ranges: each window's minimum keyed as there (top bits of the
 * hash, then rightmost by batch-wide k-gram index), except that the previous pick is kept while it is in the
 * window and has the minimum's hash, so a run of equal k-grams gives one pick per w positions, not one per
 * position; each pick written once; a document with fewer than w k-grams gives the minimum of all.
 * Memory: rings of at least w + 1 entries, whatever the document's length. */
static PyObject *winnow(PyObject *self, PyObject *args) {
    Py_buffer th, ds, dn, oh, od, op;
    int k, w;
    PyObject *sk0 = NULL, *sk1 = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*iiw*w*w*|OO", &th, &ds, &dn, &k, &w, &oh, &od, &op, &sk0, &sk1))
        return NULL;
    int keyed = sk0 != NULL && sk1 != NULL && sk0 != Py_None && sk1 != Py_None;
    uint64_t k0 = keyed ? PyLong_AsUnsignedLongLong(sk0) : 0, k1 = keyed ? PyLong_AsUnsignedLongLong(sk1) : 0;
    if (PyErr_Occurred()) {
        PyBuffer_Release(&th); PyBuffer_Release(&ds); PyBuffer_Release(&dn);
        PyBuffer_Release(&oh); PyBuffer_Release(&od); PyBuffer_Release(&op);
        return NULL;
    }
    Py_ssize_t ndocs = ds.len / 8, out = 0, R = 1;
    while (R < (Py_ssize_t)w + 1)  /* rings of a power of two: an index is masked, not divided */
        R <<= 1;
    const Py_ssize_t RM = R - 1;
    const uint64_t *T = (const uint64_t *)th.buf;
    const int64_t *D0 = (const int64_t *)ds.buf, *DN = (const int64_t *)dn.buf;
    uint64_t *OH = (uint64_t *)oh.buf;
    int64_t *OD = (int64_t *)od.buf;
    uint32_t *OP = (uint32_t *)op.buf;
    Py_ssize_t cap = oh.len / 8;
    int bad = k < 1 || w < 1 || dn.len != ds.len || od.len / 8 < cap || op.len / 4 < cap, full = 0;
    uint64_t *rg = bad ? NULL : PyMem_RawMalloc(R * sizeof(uint64_t));
    uint64_t *rk = bad ? NULL : PyMem_RawMalloc(R * sizeof(uint64_t));
    Py_ssize_t *dq = bad ? NULL : PyMem_RawMalloc(R * sizeof(Py_ssize_t));
    bad = bad || !rg || !rk || !dq;
    if (!bad) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t d = 0; d < ndocs && !full; d++) {
            Py_ssize_t t0 = D0[d], n = DN[d] - k + 1;
            if (n <= 0)
                continue;
            /* rolling polynomial: acc(i+1) = (acc(i) - T[i] * KB^(k-1)) * KB + T[i+k], all mod 2^64 */
            uint64_t top = 1, acc = 0;
            for (int j = 0; j < k; j++) {
                acc = acc * KB + T[t0 + j];
                if (j)
                    top *= KB;
            }
            Py_ssize_t head = 0, tail = 0, last = -1, best = 0;
            uint64_t lastgram = 0, bestkey = 0, bestgram = 0;
            for (Py_ssize_t i = 0; i < n; i++) {
                if (i)
                    acc = (acc - T[t0 + i - 1] * top) * KB + T[t0 + i + k - 1];
                uint64_t g = keyed ? siphash8(k0, k1, mix64(acc)) : mix64(acc);
                uint64_t key = (g & ~POS_MASK) | (POS_MASK - (((uint64_t)(t0 + i)) & POS_MASK));
                if (n < w) {  /* short document: the minimum of all its k-grams */
                    if (i == 0 || key < bestkey) {
                        bestkey = key; bestgram = g; best = i;
                    }
                    continue;
                }
                rg[i & RM] = g;
                rk[i & RM] = key;
                while (tail > head && rk[dq[(tail - 1) & RM] & RM] >= key)
                    tail--;
                dq[tail & RM] = i;
                tail++;
                if (dq[head & RM] <= i - w)
                    head++;
                if (i >= w - 1) {
                    Py_ssize_t m = dq[head & RM];
                    uint64_t gm = rg[m & RM];
                    if (m != last && !(last > i - w && lastgram == gm)) {
                        if (out >= cap) {
                            full = 1;
                            break;
                        }
                        last = m; lastgram = gm;
                        OH[out] = gm; OD[out] = d; OP[out] = (uint32_t)m; out++;
                    }
                }
            }
            if (n < w) {
                if (out >= cap) {
                    full = 1;
                    break;
                }
                OH[out] = bestgram; OD[out] = d; OP[out] = (uint32_t)best; out++;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyMem_RawFree(rg); PyMem_RawFree(rk); PyMem_RawFree(dq);
    PyBuffer_Release(&th); PyBuffer_Release(&ds); PyBuffer_Release(&dn);
    PyBuffer_Release(&oh); PyBuffer_Release(&od); PyBuffer_Release(&op);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "winnow: bad arguments or out of memory");
        return NULL;
    }
    return PyLong_FromSsize_t(full ? -1 : out);
}

/* extend(work, copy, wpos, diag, rarity, k, out_w0, out_w1, out_d0, out_d1, out_r) -> count.
 * Seeds sorted by (diag, wpos); work/copy are uint64 token hashes, the rest int64. A seed inside the run
 * just found on its diagonal only lowers that run's rarity; any other seed whose k tokens are equal on both
 * sides is extended left and right to a maximal run of equal tokens. Same as spans._extend_reference. */
static PyObject *extend(PyObject *self, PyObject *args) {
    Py_buffer wb, cb, pb, db, rb, o0, o1, o2, o3, o4;
    int k;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*iw*w*w*w*w*", &wb, &cb, &pb, &db, &rb, &k, &o0, &o1, &o2, &o3,
                          &o4))
        return NULL;
    const uint64_t *W = wb.buf, *C = cb.buf;
    const int64_t *P = pb.buf, *D = db.buf, *R = rb.buf;
    int64_t *W0 = o0.buf, *W1 = o1.buf, *D0 = o2.buf, *D1 = o3.buf, *OR = o4.buf;
    Py_ssize_t nw = wb.len / 8, nc = cb.len / 8, n = pb.len / 8, out = 0;
    int bad = db.len != pb.len || rb.len != pb.len || k < 1;
    Py_buffer *outs[5] = {&o0, &o1, &o2, &o3, &o4};
    for (int q = 0; q < 5; q++)
        bad |= outs[q]->len < pb.len;
    if (!bad) {
        Py_BEGIN_ALLOW_THREADS
        int have = 0;
        int64_t cw0 = 0, cw1 = 0, cd0 = 0, cd1 = 0, cr = 0, cdiag = 0;
        for (Py_ssize_t s = 0; s < n; s++) {
            int64_t i = P[s], dg = D[s], r = R[s], j = i + dg;
            if (have && cdiag == dg && i < cw1) {
                if (r < cr)
                    cr = r;
                continue;
            }
            if (i < 0 || j < 0 || i + k > nw || j + k > nc)
                continue;
            int same = 1;
            for (int t = 0; t < k && same; t++)
                same = W[i + t] == C[j + t];
            if (!same)
                continue;
            int64_t a = i, b = j, e = i + k, f = j + k;
            while (a > 0 && b > 0 && W[a - 1] == C[b - 1]) { a--; b--; }
            while (e < nw && f < nc && W[e] == C[f]) { e++; f++; }
            if (have) {
                W0[out] = cw0; W1[out] = cw1; D0[out] = cd0; D1[out] = cd1; OR[out] = cr; out++;
            }
            have = 1; cw0 = a; cw1 = e; cd0 = b; cd1 = f; cr = r; cdiag = dg;
        }
        if (have) {
            W0[out] = cw0; W1[out] = cw1; D0[out] = cd0; D1[out] = cd1; OR[out] = cr; out++;
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&wb); PyBuffer_Release(&cb); PyBuffer_Release(&pb); PyBuffer_Release(&db);
    PyBuffer_Release(&rb);
    for (int q = 0; q < 5; q++)
        PyBuffer_Release(outs[q]);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "extend: bad arguments");
        return NULL;
    }
    return PyLong_FromSsize_t(out);
}

/* isolate(text) -> text with every non-ASCII character that is neither a word character nor white space
 * set apart by spaces, and non-ASCII white space made a space. Word and space are decided as Python's re
 * decides \\w and \\s (Py_UNICODE_ISALNUM, Py_UNICODE_ISSPACE); same as vectorized._isolate_reference. */
static PyObject *isolate(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "isolate: a str is required");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg), extra = 0;
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    Py_UCS4 maxchar = 127;  /* the result's own largest character: a str must be built at its exact kind */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch < 128 || Py_UNICODE_ISSPACE(ch))
            continue;
        if (!Py_UNICODE_ISALNUM(ch))
            extra += 2;
        if (ch > maxchar)
            maxchar = ch;
    }
    PyObject *out = PyUnicode_New(n + extra, maxchar);
    if (!out)
        return NULL;
    int okind = PyUnicode_KIND(out);
    void *odata = PyUnicode_DATA(out);
    Py_ssize_t j = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch < 128 || Py_UNICODE_ISALNUM(ch)) {
            PyUnicode_WRITE(okind, odata, j++, ch);
        } else if (Py_UNICODE_ISSPACE(ch)) {
            PyUnicode_WRITE(okind, odata, j++, ' ');
        } else {
            PyUnicode_WRITE(okind, odata, j++, ' ');
            PyUnicode_WRITE(okind, odata, j++, ch);
            PyUnicode_WRITE(okind, odata, j++, ' ');
        }
    }
    return out;
}

/* chain(w0, w1, d0, d1, score, prev): the collinear chain's dynamic programme (match/spans.py
 * _collinear_chain, whose NumPy loop is the reference: tests check they agree). Spans sorted by (w0, d0, w1),
 * int64; score (float64) and prev (int64) written. For span k, among the earlier spans j strictly before it
 * on both sides and overlapping it by less than half its length, the first j of the largest
 * gain = score[j] - overlap - |diag(j) - diag(k)| * 1e-9 extends the chain when gain > 0; the same
 * double-precision operations in the same order as the reference, so the same chain. */
static PyObject *chain(PyObject *self, PyObject *args) {
    Py_buffer b0, b1, b2, b3, bs, bp;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*", &b0, &b1, &b2, &b3, &bs, &bp))
        return NULL;
    Py_ssize_t n = b0.len / 8;
    int bad = b1.len != b0.len || b2.len != b0.len || b3.len != b0.len || bs.len < b0.len || bp.len < b0.len;
    if (!bad) {
        const int64_t *W0 = b0.buf, *W1 = b1.buf, *D0 = b2.buf, *D1 = b3.buf;
        double *S = bs.buf;
        int64_t *PV = bp.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = 0; k < n; k++) {
            int64_t length = W1[k] - W0[k], dk = D0[k] - W0[k];
            int any = 0;
            double best = 0.0;
            Py_ssize_t bj = -1;
            for (Py_ssize_t j = 0; j < k; j++) {
                int64_t ow = W1[j] - W0[k], od = D1[j] - D0[k];
                int64_t overlap = ow > od ? ow : od;
                if (overlap < 0)
                    overlap = 0;
                double g = -1.0;
                if (W0[j] < W0[k] && D0[j] < D0[k] && W1[j] < W1[k] && D1[j] < D1[k] && overlap * 2 < length) {
                    int64_t dd = (D0[j] - W0[j]) - dk;
                    double shift = (double)(dd < 0 ? -dd : dd) * 1e-9;
                    g = (S[j] - (double)overlap) - shift;
                    any = 1;
                }
                if (bj < 0 || g > best) {
                    best = g;
                    bj = j;
                }
            }
            S[k] = (double)length;
            PV[k] = -1;
            if (any && best > 0) {
                S[k] = (double)length + best;
                PV[k] = bj;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&b0); PyBuffer_Release(&b1); PyBuffer_Release(&b2); PyBuffer_Release(&b3);
    PyBuffer_Release(&bs); PyBuffer_Release(&bp);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "chain: bad arguments");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Comment and string-literal segments of a text, for the families whose lexer is simple enough to scan
 * directly: the same matches, in the same order, as the family's regular expression in text/languages.py
 * (re.finditer: at each position the comment alternative, then the string alternatives in their order;
 * after a match the scan goes on at its end). tests/test_segments_kernel.py checks them equal on real
 * files and on random text. Families: 1 python, 2 c, 3 javascript. */
enum { SEG_COMMENT = 1, SEG_STRING = 2 };

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

#define AT(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))

/* "(?:\\.|[^q\\\n])*q" from the opening quote at i: the end, or -1 */
static Py_ssize_t line_string(const Text *t, Py_ssize_t i, Py_UCS4 q) {
    for (i = i + 1; i < t->n; i++) {
        Py_UCS4 c = AT(t, i);
        if (c == '\\') {
            if (i + 1 < t->n && AT(t, i + 1) != '\n') {
                i++;
                continue;
            }
            return -1;
        }
        if (c == q)
            return i + 1;
        if (c == '\n')
            return -1;
    }
    return -1;
}

/* lazily up to the first `a b [c]` at or after i (c == 0: two characters), else the end of the text */
static Py_ssize_t until(const Text *t, Py_ssize_t i, Py_UCS4 a, Py_UCS4 b, Py_UCS4 c) {
    Py_ssize_t len = c ? 3 : 2;
    for (; i + len <= t->n; i++)
        if (AT(t, i) == a && AT(t, i + 1) == b && (!c || AT(t, i + 2) == c))
            return i + len;
    return t->n;
}

static int str_prefix(Py_UCS4 c) {
    return c == 'r' || c == 'R' || c == 'b' || c == 'B' || c == 'u' || c == 'U' || c == 'f' || c == 'F';
}

/* python: a # comment to the line's end, or a string with a prefix of 0-2 of rRbBuUfF (greedy, given back
 * one character at a time): triple-quoted (to its closing quotes or the end), then single-line " and ' */
static Py_ssize_t python_at(const Text *t, Py_ssize_t p, int *kind) {
    Py_UCS4 c = AT(t, p);
    if (c == '#') {
        Py_ssize_t e = p + 1;
        while (e < t->n && AT(t, e) != '\n')
            e++;
        *kind = SEG_COMMENT;
        return e;
    }
    *kind = SEG_STRING;
    for (int len = 2; len >= 0; len--) {
        Py_ssize_t q = p + len;
        if (q >= t->n)
            continue;
        int ok = 1;
        for (Py_ssize_t j = p; j < q; j++)
            ok &= str_prefix(AT(t, j));
        if (!ok)
            continue;
        Py_UCS4 d = AT(t, q);
        if (d != '"' && d != '\'')
            continue;
        if (q + 2 < t->n && AT(t, q + 1) == d && AT(t, q + 2) == d)
            return until(t, q + 3, d, d, d);
        Py_ssize_t e = line_string(t, q, d);
        if (e >= 0)
            return e;
    }
    return -1;
}

/* c and javascript: a // comment to the line's end or a block comment (to its end or the text's), then the
 * family's strings: " (both), ' a character literal of 1-4 characters (c) or a string (javascript), and a
 * template literal over lines (javascript) */
static Py_ssize_t c_like_at(const Text *t, Py_ssize_t p, int *kind, int js) {
    Py_UCS4 c = AT(t, p);
    if (c == '/' && p + 1 < t->n) {
        Py_UCS4 d = AT(t, p + 1);
        *kind = SEG_COMMENT;
        if (d == '/') {
            Py_ssize_t e = p + 2;
            while (e < t->n && AT(t, e) != '\n')
                e++;
            return e;
        }
        if (d == '*')
            return until(t, p + 2, '*', '/', 0);
    }
    *kind = SEG_STRING;
    if (c == '"')
        return line_string(t, p, '"');
    if (c == '\'') {
        if (js)
            return line_string(t, p, '\'');
        Py_ssize_t i = p + 1;
        int n = 0;
        while (n < 4 && i < t->n) {
            Py_UCS4 x = AT(t, i);
            if (x == '\\') {
                if (i + 1 < t->n && AT(t, i + 1) != '\n') {
                    i += 2;
                    n++;
                    continue;
                }
                break;
            }
            if (x == '\'' || x == '\n')
                break;
            i++;
            n++;
        }
        return n >= 1 && i < t->n && AT(t, i) == '\'' ? i + 1 : -1;
    }
    if (c == '`' && js) {
        for (Py_ssize_t i = p + 1; i < t->n; i++) {
            Py_UCS4 x = AT(t, i);
            if (x == '\\') {
                if (i + 1 < t->n && AT(t, i + 1) != '\n') {
                    i++;
                    continue;
                }
                return -1;
            }
            if (x == '`')
                return i + 1;
        }
        return -1;
    }
    return -1;
}

/* segments(text, family) -> bytes of int64 (start, end, kind) triples, in text order */
static PyObject *segments(PyObject *self, PyObject *args) {
    PyObject *str;
    int family;
    if (!PyArg_ParseTuple(args, "Ui", &str, &family))
        return NULL;
    if (family < 1 || family > 3) {
        PyErr_SetString(PyExc_ValueError, "segments: unknown family");
        return NULL;
    }
    Text t = {PyUnicode_KIND(str), PyUnicode_DATA(str), PyUnicode_GET_LENGTH(str)};
    Py_ssize_t cap = 96, used = 0;
    int64_t *out = PyMem_Malloc(cap * sizeof(int64_t));
    if (!out)
        return PyErr_NoMemory();
    for (Py_ssize_t p = 0; p < t.n;) {
        int kind = 0;
        Py_ssize_t e = family == 1 ? python_at(&t, p, &kind) : c_like_at(&t, p, &kind, family == 3);
        if (e < 0) {
            p++;
            continue;
        }
        if (used + 3 > cap) {
            cap *= 2;
            int64_t *grown = PyMem_Realloc(out, cap * sizeof(int64_t));
            if (!grown) {
                PyMem_Free(out);
                return PyErr_NoMemory();
            }
            out = grown;
        }
        out[used++] = p;
        out[used++] = e;
        out[used++] = kind;
        p = e;
    }
    PyObject *res = PyBytes_FromStringAndSize((const char *)out, used * (Py_ssize_t)sizeof(int64_t));
    PyMem_Free(out);
    return res;
}

static PyMethodDef methods[] = {
    {"segments", segments, METH_VARARGS, "Comment and string segments of a text (python, c, javascript)."},
    {"chain", chain, METH_VARARGS, "The collinear chain of spans (dynamic programme)."},
    {"isolate", isolate, METH_O, "Set non-ASCII punctuation apart and make non-ASCII spaces spaces."},
    {"extend", extend, METH_VARARGS, "Verify and extend fingerprint seeds into maximal runs."},
    {"tokens", tokens, METH_VARARGS, "Scan and hash the tokens of a byte buffer."},
    {"winnow", winnow, METH_VARARGS, "k-gram hashes and winnowing per document range."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernel", NULL, -1, methods};

PyMODINIT_FUNC PyInit__kernel(void) {
    for (int c = 0; c < 256; c++)
        CLS[c] = PUNCT;
    const char *space = "\t\n\v\f\r\x1c\x1d\x1e\x1f ";
    for (const char *p = space; *p; p++)
        CLS[(unsigned char)*p] = SPACE;
    for (int c = 0; c < 256; c++)
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80)
            CLS[c] = WORD;
    return PyModule_Create(&module);
}
