"""numpy <-> Arrow for the index's fixed-width columns (no nulls), buffer to buffer.

pyarrow's `pa.array`, `pa.table`, `.to_numpy()` and `Schema.empty_table()` first ask whether pandas is
installed, by importing it: 0.5-1.3 s on the benchmark machine, more than the rest of a single-work lookup's
reading. These conversions do the same for integer columns from and to their data buffer, without that import
(checked by tests/test_lookup_imports.py).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

DTYPES = {pa.int64(): np.dtype("<i8"), pa.uint64(): np.dtype("<u8"), pa.int32(): np.dtype("<i4"),
          pa.uint32(): np.dtype("<u4")}


def dtype_of(t: pa.DataType) -> np.dtype:
    try:
        return DTYPES[t]
    except KeyError:
        raise TypeError(f"{t} is not one of the index's integer column types") from None


def array(x: np.ndarray, t: pa.DataType) -> pa.Array:
    x = np.ascontiguousarray(x, dtype_of(t))
    return pa.Array.from_buffers(t, len(x), [None, pa.py_buffer(x)])


def table(columns: dict[str, np.ndarray], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays([array(columns[f.name], f.type) for f in schema], schema=schema)


def column(t: pa.Table, name: str) -> np.ndarray:
    """A table's integer column as one numpy array (a view when it is one chunk)."""
    col = t.column(name)
    dt = dtype_of(col.type)
    parts = []
    for ch in col.chunks:
        if ch.null_count:
            raise ValueError(f"column {name} has nulls")
        parts.append(np.frombuffer(ch.buffers()[1], dt, len(ch), ch.offset * dt.itemsize))
    if not parts:
        return np.empty(0, dt)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def take(t: pa.Table, mask: np.ndarray) -> pa.Table:
    """The rows of t where mask is true."""
    return t.take(array(np.flatnonzero(mask), pa.int64()))


def empty(schema: pa.Schema, columns: list[str] | None = None) -> pa.Table:
    schema = pa.schema([schema.field(c) for c in columns]) if columns else schema
    return pa.Table.from_batches([], schema=schema)
