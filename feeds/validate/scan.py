"""A compiled reader for the common shape of GTFS csv, giving the csv module's answer.

The csv module builds a list and a str per row and field: about 60 million objects for
the stop_times.txt of a large city, which is most of a validation's time and memory.
:func:`scan_body` walks the bytes once in numba instead and hands back each column as
:class:`~feeds.validate.columns.Column` codes, interning every field in one hash table.

It accepts only input whose meaning is plain: records end with ``\\n`` or ``\\r\\n``; a
field is unquoted (its bytes are its value; a quote inside is a character, as in the csv
module) or opens with a quote and closes it on the same line (``"a, b"``, a quote
inside written twice; anything between the closing quote and the next comma is kept as
it is, as the csv module does); no field is longer than ``csv.field_size_limit()``. For
anything else (a lone ``\\r``, a quoted field spanning lines or never closed, ...) it
returns None and the caller falls back to the csv module, so the rows, values and
notices are always what the csv module would give.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from feeds.validate.columns import Column

_NL, _CR, _QUOTE, _COMMA = 10, 13, 34, 44
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
# Scan outcomes.
_OK, _UNHANDLED = 0, 1


@dataclass(frozen=True)
class ScannedBody:
    """The records after the header: fields per record and the kept records' columns."""

    fields_per_record: NDArray[np.int32]  # one per record, 0 for a blank line
    columns: list[Column]  # one per header position, over the records of header width


def scan_body(data: bytes | bytearray, start: int, width: int, encoding: str) -> ScannedBody | None:
    """The records of ``data[start:]`` for a header of ``width`` fields, decoded with
    ``encoding`` ("utf-8" or "latin-1"); None when the csv module must read them."""
    buf = np.frombuffer(data, dtype=np.uint8)
    status, records, kept, per_record, codes, entries, arena = _scan(
        buf, start, width, csv.field_size_limit()
    )
    if status != _OK:
        return None
    text = arena.tobytes()
    columns = []
    for j in range(width):
        # A column's entries are in order of first appearance, which is the order of its codes.
        mine = entries[entries[:, _COL] == j]
        values = [_value(text, at, length, encoding) for at, length in mine[:, [_AT, _LEN]].tolist()]
        columns.append(_merge_equal_values(values, codes[j, :kept]))
    return ScannedBody(per_record[:records], columns)


def _value(text: bytes, at: int, length: int, encoding: str) -> str:
    raw = text[at : at + length]
    return (_unquoted(raw) if raw[:1] == b'"' else raw).decode(encoding)


def _unquoted(raw: bytes) -> bytes:
    """The value of a field that opens with a quote and closes it on its line (the scan
    checked): doubled quotes inside are one, and whatever follows the closing quote is
    kept as it is, as the csv module does."""
    value = bytearray()
    at = 1
    while True:
        close = raw.index(b'"', at)
        if raw[close + 1 : close + 2] != b'"':
            return bytes(value + raw[at:close] + raw[close + 1 :])
        value += raw[at : close + 1]
        at = close + 2


def _merge_equal_values(values: list[str], codes: NDArray[np.int32]) -> Column:
    """One code per distinct value: ``a`` and ``"a"`` were interned apart as bytes."""
    if len(set(values)) == len(values):
        return Column(values, codes)
    # Entries are in order of first appearance, so the first entry of each value is too.
    index: dict[str, int] = {}
    remap = np.array([index.setdefault(v, len(index)) for v in values], dtype=np.int32)
    return Column(list(index), remap[codes])


def _jit(fn: Any) -> Any:
    return numba.njit(cache=True, nogil=True)(fn)


# Columns of an interned field's entry: its column, code, and where its bytes are in the arena.
_COL, _CODE, _AT, _LEN = 0, 1, 2, 3
# A slot is (key, meta, entry). The key of a field of up to 8 bytes is its bytes as an
# integer; a longer field's is its offset in the arena, where it is compared.
_SHORT = 8
# meta: an occupied flag, the column and length (bits 32..61), the code (bits 0..31).
_OCCUPIED = 1 << 62
_LEN_BITS = 18  # fields longer than this do not fit: left to the csv module
_MAX_LEN = (1 << _LEN_BITS) - 1
_MAX_WIDTH = 1 << 12


@_jit
def _doubled(a: Any) -> Any:  # pragma: no cover - compiled
    return np.concatenate((a, np.empty_like(a)))


@_jit
def _mixed(h: Any) -> Any:  # pragma: no cover - compiled
    """Murmur3's finaliser: FNV's low bits, which pick the slot, depend on low bits only."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@_jit
def _rehashed(slots: Any, hashes: Any, size: int) -> Any:  # pragma: no cover - compiled
    """``slots`` moved into a table of ``size`` slots (``hashes`` holds each entry's hash)."""
    out = np.zeros((size, 3), dtype=np.int64)
    mask = size - 1
    for old in range(len(slots)):
        if slots[old, 1] == 0:
            continue
        e = slots[old, 2]
        slot = np.int64(hashes[e] & np.uint64(mask))
        while out[slot, 1] != 0:
            slot = (slot + 1) & mask
        out[slot, 0] = slots[old, 0]
        out[slot, 1] = slots[old, 1]
        out[slot, 2] = e
    return out


@_jit
def _same_bytes(a: Any, i: int, b: Any, j: int, length: int) -> bool:  # pragma: no cover - compiled
    k = 0
    while k < length and a[i + k] == b[j + k]:
        k += 1
    return k == length


@_jit
def _scan(buf: Any, pos: int, width: int, field_limit: int) -> Any:  # pragma: no cover - compiled
    """(status, records, kept records, fields per record, codes[column, kept record],
    entries[interned field, (_COL, _CODE, _AT, _LEN)], arena of the interned bytes)."""
    n = len(buf)
    lines = 1
    for k in range(pos, n):
        if buf[k] == _NL:
            lines += 1
    per_record = np.zeros(lines, dtype=np.int32)
    codes = np.empty((width, lines), dtype=np.int32)
    limit = min(field_limit, _MAX_LEN)
    # Every distinct field of every column, interned in one open-addressing table: a
    # lookup of a short field reads one slot and nothing else, a longer one the arena of
    # interned bytes too, never the feed's bytes (far too many to stay in cache).
    slots = np.zeros((1 << 12, 3), dtype=np.int64)
    hashes = np.empty(1 << 10, dtype=np.uint64)
    table = np.empty((1 << 10, 4), dtype=np.int64)
    arena = np.empty(1 << 16, dtype=np.uint8)
    used = 0
    entries = 0
    next_code = np.zeros(width, dtype=np.int64)
    # Field j of the previous kept record: ids and flags often repeat row after row.
    last_at = np.zeros(width, dtype=np.int64)
    last_len = np.full(width, -1, dtype=np.int64)
    last_code = np.zeros(width, dtype=np.int32)
    f_start = np.empty(width, dtype=np.int64)
    f_end = np.empty(width, dtype=np.int64)
    records = 0
    kept = 0
    unhandled = (_UNHANDLED, 0, 0, per_record, codes, table[:0], arena[:0])
    if width >= _MAX_WIDTH:
        return unhandled
    while pos < n:
        c = buf[pos]
        if c in (_NL, _CR):  # a blank line: a record without fields
            if c == _CR:
                if pos + 1 >= n or buf[pos + 1] != _NL:
                    return unhandled
                pos += 1
            pos += 1
            per_record[records] = 0
            records += 1
            continue
        nf = 0
        while True:
            s = pos
            if pos < n and buf[pos] == _QUOTE:
                q = pos + 1
                while True:
                    if q >= n:
                        return unhandled
                    c = buf[q]
                    if c == _QUOTE:
                        if q + 1 < n and buf[q + 1] == _QUOTE:
                            q += 2
                            continue
                        break
                    if c in (_NL, _CR):
                        return unhandled
                    q += 1
                pos = q + 1
            # Unquoted, or the rest of a field after its closing quote: taken as it is.
            while pos < n:
                c = buf[pos]
                if c in (_COMMA, _NL, _CR):
                    break
                pos += 1
            if pos - s > limit:
                return unhandled
            if nf < width:
                f_start[nf] = s
                f_end[nf] = pos
            nf += 1
            if pos >= n:
                break
            c = buf[pos]
            if c == _COMMA:
                pos += 1
                continue
            if c == _NL:
                pos += 1
                break
            if c == _CR and pos + 1 < n and buf[pos + 1] == _NL:
                pos += 2
                break
            return unhandled  # a lone \r
        per_record[records] = nf
        records += 1
        if nf != width:
            continue
        for j in range(width):
            s = f_start[j]
            length = f_end[j] - s
            if length == last_len[j] and _same_bytes(buf, s, buf, last_at[j], length):
                codes[j, kept] = last_code[j]
                last_at[j] = s
                continue
            h = _FNV_OFFSET ^ np.uint64(j)
            key = 0
            for k in range(s, s + length):
                h = (h ^ np.uint64(buf[k])) * _FNV_PRIME
                if length <= _SHORT:
                    key |= np.int64(buf[k]) << (8 * (k - s))
            h = _mixed(h)
            kind = _OCCUPIED | (((j << _LEN_BITS) | length) << 32)
            mask = len(slots) - 1
            slot = np.int64(h & np.uint64(mask))
            code = -1
            while slots[slot, 1] != 0:
                meta = slots[slot, 1]
                if (meta & ~0xFFFFFFFF) == kind:
                    if length <= _SHORT:
                        if slots[slot, 0] == key:
                            code = meta & 0xFFFFFFFF
                            break
                    elif _same_bytes(arena, slots[slot, 0], buf, s, length):
                        code = meta & 0xFFFFFFFF
                        break
                slot = (slot + 1) & mask
            if code < 0:
                if entries == len(table):
                    table = _doubled(table)
                    hashes = _doubled(hashes)
                while used + length > len(arena):
                    arena = _doubled(arena)
                arena[used : used + length] = buf[s : s + length]
                code = next_code[j]
                next_code[j] += 1
                table[entries, _COL] = j
                table[entries, _CODE] = code
                table[entries, _AT] = used
                table[entries, _LEN] = length
                hashes[entries] = h
                slots[slot, 0] = key if length <= _SHORT else used
                slots[slot, 1] = kind | code
                slots[slot, 2] = entries
                used += length
                entries += 1
                if 2 * entries > len(slots):
                    slots = _rehashed(slots, hashes, 2 * len(slots))
            codes[j, kept] = code
            last_at[j] = s
            last_len[j] = length
            last_code[j] = code
        kept += 1
    return _OK, records, kept, per_record, codes, table[:entries], arena[:used]
