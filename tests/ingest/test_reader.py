"""Reading files: layouts, line numbers, encodings, gzip, progress and whole-file failures."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from uno.ingest import Layout, SourceError, detect_layout
from uno.ingest.reader import SourceItem, iter_source


@pytest.mark.parametrize(
    ("name", "content", "layout"),
    [
        ("a.jsonl", "{}", Layout.JSONL),
        ("a.NDJSON", "{}", Layout.JSONL),
        ("a.json", "{}", Layout.JSON),
        ("a.log", '\n  [{"query": 1}]', Layout.JSON),
        ("a.log", '{"query": 1}\n', Layout.JSONL),
    ],
)
def test_layout_from_name_then_content(tmp_path: Path, name: str, content: str, layout: Layout) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert detect_layout(path) is layout


def test_layout_of_gzip_files(tmp_path: Path) -> None:
    for name, layout in (("a.jsonl.gz", Layout.JSONL), ("a.json.gz", Layout.JSON), ("a.gz", Layout.JSON)):
        path = tmp_path / name
        path.write_bytes(gzip.compress(b"[]"))
        assert detect_layout(path) is layout


def test_json_lines_keep_line_numbers_and_say_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"a": 1}\r\n'  # a byte-order mark and a Windows line ending
        b"\n"
        b'{"a" 2}\n'
        b'{"a": "\xff"}\n'
        b"[1, 2]"  # no final newline
    )
    items = list(iter_source(path, Layout.JSONL))
    assert items == [
        SourceItem(line=1, raw='{"a": 1}', value={"a": 1}),
        SourceItem(line=2, raw=""),
        SourceItem(line=3, raw='{"a" 2}', error="invalid JSON at column 6: Expecting ':' delimiter"),
        SourceItem(line=4, raw='{"a": "\ufffd"}', error="line is not valid UTF-8 (invalid start byte at byte 8)"),
        SourceItem(line=5, raw="[1, 2]", value=[1, 2]),
    ]
    assert items[1].blank and not items[2].blank


def test_json_documents(tmp_path: Path) -> None:
    array = tmp_path / "array.json"
    array.write_text(json.dumps([{"a": 1}, 2]))
    assert [(i.line, i.value) for i in iter_source(array, Layout.JSON)] == [(1, {"a": 1}), (2, 2)]

    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"meta": {}, "data": [{"a": 1}]}))
    assert [i.value for i in iter_source(wrapped, Layout.JSON)] == [{"a": 1}]

    single = tmp_path / "single.json"
    single.write_text(json.dumps({"query": "q"}))
    assert [i.value for i in iter_source(single, Layout.JSON)] == [{"query": "q"}]

    scalar = tmp_path / "scalar.json"
    scalar.write_text("42")
    with pytest.raises(SourceError, match="expected an array or an object of records, got number"):
        list(iter_source(scalar, Layout.JSON))


def test_progress_counts_bytes_of_the_file_on_disk(tmp_path: Path) -> None:
    body = b"".join(json.dumps({"n": n, "pad": "x" * 50}).encode() + b"\n" for n in range(2000))
    plain = tmp_path / "a.jsonl"
    plain.write_bytes(body)
    packed = tmp_path / "a.jsonl.gz"
    packed.write_bytes(gzip.compress(body))
    for path in (plain, packed):
        seen: list[int] = []
        assert len(list(iter_source(path, Layout.JSONL, seen.append))) == 2000
        assert sum(seen) == path.stat().st_size


def test_truncated_gzip_fails_as_a_whole(tmp_path: Path) -> None:
    body = b"".join(json.dumps({"n": n}).encode() + b"\n" for n in range(5000))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(body)[:-200])
    with pytest.raises(SourceError, match=r"cut.jsonl.gz: cannot read past line \d+"):
        list(iter_source(path, Layout.JSONL))
