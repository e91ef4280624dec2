"""Reading input files one record at a time: JSON lines (streamed), JSON documents, gzip of either.

Layouts, told from the name: ``.jsonl``/``.ndjson`` (optionally ``.gz``) are JSON lines, read a line at
a time so a file of any size runs in constant memory; ``.json`` (optionally ``.gz``) is one document:
an array of records, an object holding the array under ``"data"`` or ``"records"``, or a single record
object. Other names are sniffed: a file starting with ``[`` is a document, anything else JSON lines. A
``.json`` file that turns out to hold several top-level values is read as JSON lines.

A document is parsed whole (the standard library has no streaming JSON parser); for its records,
``line`` is the 1-based position of the record in the array rather than a line number.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, cast

from uno.ingest.errors import SourceError, json_type_name

# Keys under which a JSON document may hold its list of records.
CONTAINER_KEYS = ("data", "records")

# Told how many more bytes of the file were read.
ProgressCallback = Callable[[int], object]
# The longest JSON line read whole when no limit is given; a longer one is skipped (read past, not kept) and
# reported, so one runaway line cannot exhaust memory. ``InputLimits.max_record_bytes`` sets it per ingest.
DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
# How much of an over-long line is read at a time while skipping the rest of it.
_SKIP_CHUNK_BYTES = 1024 * 1024


class Layout(StrEnum):
    JSONL = "jsonl"
    JSON = "json"


@dataclass(frozen=True)
class SourceItem:
    """One line (or one record of a document) as read, before it is interpreted as a log."""

    line: int
    raw: str
    value: object = None
    # Why ``raw`` is not JSON (or not decodable); None when ``value`` holds the parsed JSON.
    error: str | None = None

    @property
    def blank(self) -> bool:
        return self.error is None and not self.raw.strip()


def detect_layout(path: Path) -> Layout:
    """The layout of ``path`` from its name, else from its first non-blank byte."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        return Layout.JSONL
    if name.endswith(".json"):
        return Layout.JSON
    with _open_source(path) as (stream, _raw):
        try:
            head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        except (OSError, EOFError, zlib.error) as error:
            raise SourceError(f"{path}: cannot read: {error}") from error
    return Layout.JSON if head.startswith(b"[") else Layout.JSONL


def iter_source(
    path: Path,
    layout: Layout,
    on_progress: ProgressCallback | None = None,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Generator[SourceItem, None, None]:
    """Every item of ``path``, in order; ``on_progress`` gets the number of (compressed) bytes read since its
    previous call. A JSON line over ``max_line_bytes`` is an item with an error (its text is not kept). Raises
    ``SourceError`` if the file cannot be opened or decoded as a whole."""
    if layout is Layout.JSONL:
        yield from _iter_lines(path, on_progress, max_line_bytes)
        return
    document = _load_document(path)
    if on_progress is not None:
        on_progress(path.stat().st_size)
    if document is None:
        # Several top-level values in a ``.json`` file: it is JSON lines under another name.
        yield from _iter_lines(path, None, max_line_bytes)
        return
    for position, value in enumerate(_records_of(path, document), start=1):
        yield SourceItem(line=position, raw=json.dumps(value, ensure_ascii=False), value=value)


def parse_line(number: int, data: bytes) -> SourceItem:
    """One JSON line: its text, and the parsed value or why it is not JSON."""
    data = data.rstrip(b"\r\n")
    if number == 1:
        data = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark some editors write
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return SourceItem(
            line=number,
            raw=data.decode("utf-8", errors="replace"),
            error=f"line is not valid UTF-8 ({error.reason} at byte {error.start + 1})",
        )
    if not text.strip():
        return SourceItem(line=number, raw=text)
    try:
        return SourceItem(line=number, raw=text, value=json.loads(text))
    except json.JSONDecodeError as error:
        return SourceItem(line=number, raw=text, error=f"invalid JSON at column {error.colno}: {error.msg}")
    except RecursionError:
        return SourceItem(line=number, raw=text, error="invalid JSON: nested too deeply")
    except ValueError as error:
        # E.g. an integer of more than 4,300 digits (Python's int conversion limit): this line is bad, not the file.
        return SourceItem(line=number, raw=text, error=f"invalid JSON: {error}")


def _iter_lines(path: Path, on_progress: ProgressCallback | None, max_line_bytes: int) -> Iterator[SourceItem]:
    with _open_source(path) as (stream, raw):
        position = 0
        number = 0
        while True:
            try:
                data = stream.readline(max_line_bytes + 1)
                cut = len(data) > max_line_bytes and not data.endswith(b"\n")
                skipped = _skip_rest_of_line(stream) if cut else 0
            except (OSError, EOFError, zlib.error) as error:
                raise SourceError(f"{path}: cannot read past line {number}: {error}") from error
            if not data:
                break
            number += 1
            if skipped or len(data.rstrip(b"\r\n")) > max_line_bytes:
                size = len(data) + skipped
                yield SourceItem(
                    line=number,
                    raw=data[:1024].decode("utf-8", errors="replace"),
                    error=f"line is {size:,} bytes, over the limit of {max_line_bytes:,} bytes per record",
                )
            else:
                yield parse_line(number, data)
            if on_progress is not None:
                now = raw.tell()
                on_progress(now - position)
                position = now


def _skip_rest_of_line(stream: IO[bytes]) -> int:
    """Read past the rest of the current line without keeping it; the number of bytes skipped."""
    skipped = 0
    while chunk := stream.readline(_SKIP_CHUNK_BYTES):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _load_document(path: Path) -> object | None:
    """The parsed document, or None when the file holds several top-level values (JSON lines)."""
    with _open_source(path) as (stream, _raw):
        try:
            data = stream.read()
        except (OSError, EOFError, zlib.error) as error:
            raise SourceError(f"{path}: cannot read: {error}") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(f"{path}: not valid UTF-8 ({error.reason} at byte {error.start + 1})") from None
    try:
        document: object = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg == "Extra data":
            return None
        raise SourceError(
            f"{path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}; nothing was read"
        ) from None
    except RecursionError:
        raise SourceError(f"{path}: invalid JSON: nested too deeply; nothing was read") from None
    except ValueError as error:
        # An integer of more than 4,300 digits: a document is parsed whole, so the whole file is refused.
        raise SourceError(f"{path}: invalid JSON: {error}; nothing was read") from None
    return document


def _records_of(path: Path, document: object) -> list[object]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in CONTAINER_KEYS:
            if isinstance(document.get(key), list):
                return list(document[key])
        return [document]
    raise SourceError(f"{path}: expected an array or an object of records, got {json_type_name(document)}")


@contextmanager
def _open_source(path: Path) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """``(stream to read, underlying file)``: the file's position measures progress through a gzip too."""
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory, not a file") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot open: {error.strerror or error}") from None
    with raw:
        if path.name.lower().endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield cast(IO[bytes], unzipped), raw
        else:
            yield raw, raw
