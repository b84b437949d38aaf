"""Reads a GTFS zip or directory into column tables, never trusting the bytes.

Files in the common plain shape are read by the compiled scanner of
:mod:`feeds.validate.scan`; anything else by the csv module, with the same result.
Every failure becomes a notice instead of an exception: a zip that does not open
(``corrupt_zip``), a member that does not inflate, bytes that are not UTF-8
(``invalid_encoding``, then read as Latin-1 so the rest can still be checked), csv that
does not parse, rows of the wrong width. Rows are numbered as in the canonical
validator's notices: the header is row 0, the first data row is row 1 (so blank lines
still count).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from feeds.validate.collector import NoticeCollector
from feeds.validate.columns import Column
from feeds.validate.scan import scan_body

# A file's bytes: a bytearray when inflated from a zip (not copied into bytes once more).
Data = bytes | bytearray

# Largest file read (uncompressed): far above any real feed file, far below a zip bomb.
MAX_FILE_BYTES = 1 << 30
# Reading a member may fail in any of these ways on a damaged or exotic archive.
_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    ValueError,
)


@dataclass(frozen=True, slots=True)
class Table:
    """One csv file as columns of raw strings (no stripping: ids compare exactly)."""

    name: str
    header: tuple[str, ...]
    columns: dict[str, Column]
    size: int
    # 1-based data row of each kept record; None when record i is row i + 1.
    row_numbers: NDArray[np.int64] | None = None

    def has(self, column: str) -> bool:
        return column in self.columns

    def column(self, column: str) -> Column:
        """The values of ``column``, or empty strings when the file lacks it."""
        values = self.columns.get(column)
        return values if values is not None else Column.constant("", self.size)

    def row(self, index: int) -> int:
        """The notice row number of record ``index``."""
        return int(self.row_numbers[index]) if self.row_numbers is not None else index + 1


class FeedArchive:
    """The members of a GTFS zip or directory, read lazily by name."""

    def __init__(self, path: Path, zf: zipfile.ZipFile | None, names: list[str], nested: list[str]) -> None:
        self.path = path
        self._zip = zf
        self.names = names  # files at the root
        self.nested = nested  # files in subfolders (base names)

    @classmethod
    def open(cls, path: Path, sink: NoticeCollector) -> FeedArchive | None:
        """Open ``path``; None (with a ``corrupt_zip`` notice) when it is not a readable zip."""
        names: list[str] = []
        nested: list[str] = []
        if path.is_dir():
            names = sorted(p.name for p in path.iterdir() if p.is_file())
            nested = sorted(p.name for p in path.glob("*/**/*") if p.is_file())
            return cls(path, None, names, nested)
        try:
            zf = zipfile.ZipFile(path)
            infos = zf.infolist()
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            sink.error("corrupt_zip", f"{path.name} is not a readable zip archive: {exc}")
            return None
        for info in infos:
            if info.is_dir():
                continue
            parts = info.filename.replace("\\", "/").split("/")
            if parts[0] == "__MACOSX" or parts[-1].startswith("."):
                continue  # archiver litter, not content
            (names if len(parts) == 1 else nested).append(parts[-1])
        return cls(path, zf, sorted(names), sorted(nested))

    def read(self, name: str, sink: NoticeCollector) -> Data | None:
        """The bytes of member ``name``; None (and a notice) when unreadable or too large."""
        data: Data | None
        if self._zip is None:
            try:
                size = (self.path / name).stat().st_size
                data = (self.path / name).read_bytes() if size <= MAX_FILE_BYTES else None
            except OSError as exc:
                sink.error("i_o_error", f"{name} cannot be read: {exc}", file=name)
                return None
        else:
            try:
                data = self._read_member(name)
            except _MEMBER_ERRORS as exc:
                sink.error("corrupt_zip", f"{name} cannot be read from the archive: {exc}", file=name)
                return None
        if data is None:
            sink.error(
                "file_too_large", f"{name} is larger than {MAX_FILE_BYTES >> 20} MiB; not read", file=name
            )
        return data

    def _read_member(self, name: str) -> bytearray | None:
        # Streamed with a cap rather than trusting the declared size: a zip bomb must not
        # inflate into memory.
        assert self._zip is not None
        out = bytearray()
        with self._zip.open(name) as member:
            while block := member.read(1 << 20):
                out += block
                if len(out) > MAX_FILE_BYTES:
                    return None
        return out

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> FeedArchive:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_table(name: str, data: Data, sink: NoticeCollector) -> Table | None:
    """The columns of csv ``data``; None (and a notice) when it has no header or is not csv."""
    encoding = text_encoding(name, data, sink)
    table = _scan_table(name, data, encoding, sink)
    if table is not None:
        return table
    return parse_csv(name, data.decode(encoding), sink)


def text_encoding(name: str, data: Data, sink: NoticeCollector) -> str:
    """The codec to read ``data`` with: "utf-8-sig" for UTF-8 (a BOM is fine); anything
    else is reported and read as "latin-1". Checked a block at a time: a large file is
    not decoded whole here."""
    if data.isascii():
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    view = memoryview(data)
    try:
        for at in range(0, len(data), _DECODE_BLOCK):
            decoder.decode(view[at : at + _DECODE_BLOCK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        decode(name, bytes(data), sink)  # the notice, naming the first bad byte
        return "latin-1"
    return "utf-8-sig"


_DECODE_BLOCK = 1 << 24


def decode(name: str, data: bytes, sink: NoticeCollector) -> str:
    """UTF-8 (a BOM is fine); anything else is reported and read as Latin-1."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start)  # header line is 0, like data rows
        sink.error(
            "invalid_encoding",
            f"{name} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); read as Latin-1",
            file=name,
            row=line or None,
        )
        return data.decode("latin-1")


def parse_csv(name: str, text: str, sink: NoticeCollector) -> Table | None:
    """Columns of ``text`` by the csv module; None when it has no header or is not csv at all."""
    reader = csv.reader(_lines(text))
    try:
        raw_header = next(reader, None)
        while raw_header is not None and not any(h.strip() for h in raw_header):
            raw_header = next(reader, None)  # leading blank lines
        if raw_header is None:
            sink.error("empty_file", f"{name} is empty: it has no header", file=name)
            return None
        header, keep = _clean_header(name, raw_header, sink)
        builder = _ColumnBuilder(name, len(raw_header), sink)
        while chunk := list(itertools.islice(reader, _CHUNK_ROWS)):
            builder.add(chunk)
    except csv.Error as exc:
        sink.error(
            "csv_parsing_failed", f"{name} is not valid csv: {exc}", file=name, row=reader.line_num - 1
        )
        return None
    columns = builder.columns()
    return Table(
        name,
        tuple(header),
        {h: columns[i] for h, i in zip(header, keep, strict=True)},
        builder.size,
        builder.row_numbers(),
    )


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` exactly as ``io.StringIO(text, newline="")`` yields them
    (ended by \\n, \\r\\n or a lone \\r), without holding the whole text as
    StringIO's four bytes per character: one block at a time, cut after a line end."""
    at, n = 0, len(text)
    while at < n:
        end = at + _LINE_BLOCK
        if end < n:
            cut = text.rfind("\n", at, end)
            if cut < 0:
                # No \n in the block: a \r before its last character ends a line.
                cut = text.rfind("\r", at, end - 1)
            end = cut + 1 if cut >= 0 else n
        yield from io.StringIO(text[at:end], newline="")
        at = end


_LINE_BLOCK = 1 << 22
# Rows are transposed into columns a chunk at a time, so a large file never exists as
# one list of row lists next to its columns.
_CHUNK_ROWS = 50_000


class _ColumnBuilder:
    def __init__(self, name: str, width: int, sink: NoticeCollector) -> None:
        self.name = name
        self.width = width
        self.sink = sink
        self.codes: list[list[NDArray[np.int32]]] = [[] for _ in range(width)]
        self.index: list[dict[str, int]] = [{} for _ in range(width)]
        self.seen = 0  # records read, kept or not
        self.size = 0  # records kept
        self._numbers: list[int] | None = None  # set once a record is dropped

    def add(self, chunk: list[list[str]]) -> None:
        start, self.seen = self.seen, self.seen + len(chunk)
        if any(len(r) != self.width for r in chunk):
            chunk = self._drop_irregular(chunk, start)
        elif self._numbers is not None:
            self._numbers.extend(range(start + 1, start + len(chunk) + 1))
        for j, values in enumerate(zip(*chunk, strict=True)):
            index = self.index[j]
            codes = [index.setdefault(v, len(index)) for v in values]
            self.codes[j].append(np.array(codes, dtype=np.int32))
        self.size += len(chunk)

    def _drop_irregular(self, chunk: list[list[str]], start: int) -> list[list[str]]:
        if self._numbers is None:
            self._numbers = list(range(1, start + 1))
        kept: list[list[str]] = []
        for k, r in enumerate(chunk):
            row = start + k + 1
            if len(r) == self.width:
                kept.append(r)
                self._numbers.append(row)
            elif r:  # an empty line is harmless; a short or long row is not
                _report_row_length(self.sink, self.name, row, len(r), self.width)
        return kept

    def columns(self) -> list[Column]:
        return [
            Column(list(index), np.concatenate(parts) if parts else np.empty(0, dtype=np.int32))
            for index, parts in zip(self.index, self.codes, strict=True)
        ]

    def row_numbers(self) -> NDArray[np.int64] | None:
        return None if self._numbers is None else np.array(self._numbers, dtype=np.int64)


def _report_row_length(sink: NoticeCollector, name: str, row: int, length: int, width: int) -> None:
    sink.error(
        "invalid_row_length",
        f"{name} row {row} has {length} values, the header has {width}; row skipped",
        file=name,
        row=row,
    )


def _scan_table(name: str, data: Data, encoding: str, sink: NoticeCollector) -> Table | None:
    """The table by the compiled scanner; None (and no notice) when the csv module must
    read this file."""
    found = _header_record(data, encoding)
    if found is None:
        return None
    raw_header, body_start = found
    width = len(raw_header)
    body = scan_body(data, body_start, width, "latin-1" if encoding == "latin-1" else "utf-8")
    if body is None:
        return None
    header, keep = _clean_header(name, raw_header, sink)
    per_record = body.fields_per_record
    regular = per_record == width
    row_numbers = None
    if not regular.all():
        for k in np.flatnonzero(~regular & (per_record > 0)).tolist():
            _report_row_length(sink, name, k + 1, int(per_record[k]), width)
        row_numbers = np.flatnonzero(regular) + 1
    columns = {h: body.columns[i] for h, i in zip(header, keep, strict=True)}
    return Table(name, tuple(header), columns, int(regular.sum()), row_numbers)


class _NotPlain(Exception):
    """The header's lines are not split the way the csv module would split them."""


def _header_record(data: Data, encoding: str) -> tuple[list[str], int] | None:
    """The header record by the csv module (leading blank records skipped) and the
    offset of the first byte after it; None when there is none or it is not plain csv."""
    at = 0
    later = "latin-1" if encoding == "latin-1" else "utf-8"  # a BOM is dropped at the start only

    def lines() -> Iterator[str]:
        nonlocal at
        while at < len(data):
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end + 1
            line = bytes(data[at:end])
            if line.count(b"\r") != line.count(b"\r\n"):
                raise _NotPlain  # a lone \r ends a line for StringIO: not split here
            text = line.decode(encoding if at == 0 else later)
            at = end
            yield text

    reader = csv.reader(lines())
    try:
        raw = next(reader, None)
        while raw is not None and not any(h.strip() for h in raw):
            raw = next(reader, None)
    except (csv.Error, _NotPlain):
        return None
    return None if raw is None else (raw, at)


def _clean_header(name: str, raw: list[str], sink: NoticeCollector) -> tuple[list[str], list[int]]:
    """Column names (stripped) and the index of each in the raw row; bad columns reported."""
    header: list[str] = []
    keep: list[int] = []
    for i, h in enumerate(raw):
        col = h.strip()
        if not col:
            sink.error("empty_column_name", f"{name} column {i + 1} has no name; ignored", file=name, row=0)
        elif col in header:
            sink.error("duplicated_column", f"{name} has column {col} twice; the first is used", name, 0, col)
        else:
            header.append(col)
            keep.append(i)
    return header, keep
