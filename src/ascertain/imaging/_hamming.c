/* The exact Hamming scan of 256-bit codes (imaging/code_scan.py): the hot loop of finding copies by PDQ code.
 *
 * Same definition as the NumPy path in code_scan.py (tests/test_image_scan.py checks both against a
 * brute-force count of differing bits): for every query and every stored row, the distance is the number of
 * differing bits of the four 64-bit words; a row within max_distance is a hit (query, row, distance).
 *
 * A block's four columns (each contiguous: the table stores codes column by column) are scanned in tiles of
 * TILE rows, every query against a tile while it is in cache; the distances of a tile are computed in a loop
 * the compiler vectorizes (on x86-64 the build with the AVX-512 vector popcount is chosen at load time when
 * the CPU has it, else the one with the scalar popcnt instruction, else plain C: PATH says which), then the
 * hits are picked. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TILE 2048

typedef uint64_t (*distances_fn)(const uint64_t *restrict, const uint64_t *restrict, const uint64_t *restrict,
                                 const uint64_t *restrict, Py_ssize_t, const uint64_t *, uint64_t,
                                 uint64_t *restrict);

/* d[i] = bits differing between row i and the query q (4 words); returns how many rows are within maxd, so
 * that a tile without a hit is not looked at again (most are). uint64 throughout: the loop vectorizes. */
#define DISTANCES(NAME, ATTR)                                                                                   \
    ATTR static uint64_t NAME(const uint64_t *restrict c0, const uint64_t *restrict c1,                          \
                              const uint64_t *restrict c2, const uint64_t *restrict c3, Py_ssize_t n,            \
                              const uint64_t *q, uint64_t maxd, uint64_t *restrict d) {                          \
        const uint64_t q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];                                             \
        uint64_t within = 0;                                                                                   \
        for (Py_ssize_t i = 0; i < n; i++) {                                                                   \
            uint64_t x = (uint64_t)__builtin_popcountll(c0[i] ^ q0) + (uint64_t)__builtin_popcountll(c1[i] ^ q1) \
                       + (uint64_t)__builtin_popcountll(c2[i] ^ q2) + (uint64_t)__builtin_popcountll(c3[i] ^ q3);\
            d[i] = x;                                                                                          \
            within += x <= maxd;                                                                               \
        }                                                                                                      \
        return within;                                                                                         \
    }

DISTANCES(distances_plain, )
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
DISTANCES(distances_popcnt, __attribute__((target("popcnt"))))
DISTANCES(distances_avx512, __attribute__((target("avx512f,avx512vpopcntdq,avx512bw,avx512vl"))))
#endif

static distances_fn distances = distances_plain;
static const char *path = "plain C";

/* scan(c0, c1, c2, c3, queries, max_distance, out_query, out_row, out_distance) -> hits written, or -1 when
 * they do not fit the out buffers (the caller scans the rows again in smaller parts).
 * c0..c3: the n rows' words (n uint64 each); queries: Q x 4 uint64 (row-major); out buffers: int32, int64,
 * uint16, all of the same capacity. Rows are numbered from 0 within this call. */
static PyObject *scan(PyObject *self, PyObject *args) {
    Py_buffer c[4], qb, oq, orow, od;
    int maxd;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*iw*w*w*", &c[0], &c[1], &c[2], &c[3], &qb, &maxd, &oq, &orow, &od))
        return NULL;
    Py_ssize_t n = c[0].len / 8, nq = qb.len / 32, cap = oq.len / 4, hits = 0;
    int bad = c[1].len != c[0].len || c[2].len != c[0].len || c[3].len != c[0].len || c[0].len % 8 ||
              qb.len % 32 || orow.len / 8 != cap || od.len / 2 != cap;
    if (!bad) {
        const uint64_t *w0 = c[0].buf, *w1 = c[1].buf, *w2 = c[2].buf, *w3 = c[3].buf, *q = qb.buf;
        int32_t *OQ = oq.buf;
        int64_t *OR = orow.buf;
        uint16_t *OD = od.buf;
        uint64_t d[TILE];
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t s = 0; s < n && hits >= 0; s += TILE) {
            Py_ssize_t m = n - s < TILE ? n - s : TILE;
            for (Py_ssize_t k = 0; k < nq && hits >= 0; k++) {
                const uint64_t *qk = q + 4 * k;
                if (!distances(w0 + s, w1 + s, w2 + s, w3 + s, m, qk, (uint64_t)maxd, d))
                    continue;
                for (Py_ssize_t i = 0; i < m; i++) {
                    if (d[i] <= (uint64_t)maxd) {
                        if (hits == cap) { hits = -1; break; }
                        OQ[hits] = (int32_t)k;
                        OR[hits] = s + i;
                        OD[hits] = (uint16_t)d[i];
                        hits++;
                    }
                }
            }
        }
        Py_END_ALLOW_THREADS
    }
    for (int k = 0; k < 4; k++)
        PyBuffer_Release(&c[k]);
    PyBuffer_Release(&qb); PyBuffer_Release(&oq); PyBuffer_Release(&orow); PyBuffer_Release(&od);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "four columns of n uint64, Q x 4 uint64 queries and out buffers of one "
                                          "capacity (int32, int64, uint16) expected");
        return NULL;
    }
    return PyLong_FromSsize_t(hits);
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, "Every (query, row, distance) of 256-bit codes within max_distance bits."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hamming", NULL, -1, methods};

/* The path the CPU allows, best first; ASCERTAIN_HAMMING=plain or popcnt asks for a lesser one (the tests check
 * every path on a machine that has them all). */
PyMODINIT_FUNC PyInit__hamming(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    const char *want = getenv("ASCERTAIN_HAMMING");
    int plain = want && !strcmp(want, "plain"), popcnt_only = want && !strcmp(want, "popcnt");
    __builtin_cpu_init();
    if (!plain && !popcnt_only && __builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl")) {
        distances = distances_avx512;
        path = "AVX-512 vector popcount";
    } else if (!plain && __builtin_cpu_supports("popcnt")) {
        distances = distances_popcnt;
        path = "popcnt";
    }
#endif
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddStringConstant(m, "PATH", path) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
