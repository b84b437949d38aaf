"""Reads a GTFS zip or directory into column tables with the stdlib, never trusting the bytes.

Every failure becomes a notice instead of an exception: a zip that does not open
(``corrupt_zip``), a member that does not inflate, bytes that are not UTF-8
(``invalid_encoding``, then read as Latin-1 so the rest can still be checked), csv that
does not parse, rows of the wrong width. Rows are numbered as in the canonical
validator's notices: the header is row 0, the first data row is row 1 (so blank lines
still count).
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from feeds.validate.collector import NoticeCollector

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
    columns: dict[str, Sequence[str]]
    size: int
    # 1-based data row of each kept record; None when record i is row i + 1.
    row_numbers: tuple[int, ...] | None = None

    def has(self, column: str) -> bool:
        return column in self.columns

    def column(self, column: str) -> Sequence[str]:
        """The values of ``column``, or empty strings when the file lacks it."""
        values = self.columns.get(column)
        return values if values is not None else ("",) * self.size

    def row(self, index: int) -> int:
        """The notice row number of record ``index``."""
        return self.row_numbers[index] if self.row_numbers is not None else index + 1


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

    def read(self, name: str, sink: NoticeCollector) -> bytes | None:
        """The bytes of member ``name``; None (and a notice) when unreadable or too large."""
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

    def _read_member(self, name: str) -> bytes | None:
        # Streamed with a cap rather than trusting the declared size: a zip bomb must not
        # inflate into memory.
        assert self._zip is not None
        out = bytearray()
        with self._zip.open(name) as member:
            while block := member.read(1 << 20):
                out += block
                if len(out) > MAX_FILE_BYTES:
                    return None
        return bytes(out)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> FeedArchive:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


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
    """Columns of ``text``; None when it has no header or is not csv at all."""
    reader = csv.reader(io.StringIO(text, newline=""))
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
    columns: dict[str, Sequence[str]] = {h: builder.columns[i] for h, i in zip(header, keep, strict=True)}
    return Table(name, tuple(header), columns, builder.size, builder.row_numbers())


# Rows are transposed into columns a chunk at a time, so a large file never exists as
# one list of row lists next to its columns.
_CHUNK_ROWS = 50_000
# A column keeps sharing equal strings while fewer than this share of its values are new:
# ids and times repeat (one str object instead of thousands), coordinates do not.
_INTERN_RATIO = 0.5


class _ColumnBuilder:
    def __init__(self, name: str, width: int, sink: NoticeCollector) -> None:
        self.name = name
        self.width = width
        self.sink = sink
        self.columns: list[list[str]] = [[] for _ in range(width)]
        self.memo: list[dict[str, str] | None] = [{} for _ in range(width)]
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
            memo = self.memo[j]
            if memo is None:
                self.columns[j].extend(values)
                continue
            before = len(memo)
            self.columns[j].extend([memo.setdefault(v, v) for v in values])
            if len(memo) - before > _INTERN_RATIO * len(values):
                self.memo[j] = None  # mostly distinct values: sharing does not pay
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
                self.sink.error(
                    "invalid_row_length",
                    f"{self.name} row {row} has {len(r)} values, the header has {self.width}; row skipped",
                    file=self.name,
                    row=row,
                )
        return kept

    def row_numbers(self) -> tuple[int, ...] | None:
        return None if self._numbers is None else tuple(self._numbers)


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


def iter_rows_with(table: Table, column: str, values: frozenset[str] | set[str]) -> Iterator[tuple[int, str]]:
    """(record index, value) of every record whose ``column`` value is in ``values``."""
    if not values:
        return
    for i, v in enumerate(table.column(column)):
        if v in values:
            yield i, v
