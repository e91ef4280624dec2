"""Ingest: read records, keep the valid ones as logs and quarantine the rest, one store transaction per batch.

A batch's logs and its quarantined lines commit together, so an ingest killed part-way leaves whole
batches behind and never half of one. Re-running the same ingest is a no-op for what is already stored:
the store reports known logs as duplicates (by id and content hash) and quarantine records have
deterministic ids.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, closing, nullcontext
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from rule_store.protocol import AddResult, RuleStore
from rule_store.records import DEFAULT_NAMESPACE, LogRecord, QuarantineRecord
from uno.ingest.errors import FormatDetectionError, InvalidRecord, SourceError, json_type_name
from uno.ingest.formats import Format, apply_scope, detect_format, parse_format, parse_record
from uno.ingest.limits import DEFAULT_LIMITS, InputLimits, check_log, check_raw_record
from uno.ingest.reader import SourceItem, detect_layout, iter_source

if TYPE_CHECKING:
    from tqdm import tqdm

DEFAULT_BATCH_SIZE = 500
# The raw text kept with a quarantined line, in bytes of UTF-8.
MAX_RAW_BYTES = 10 * 1024
# How many (line, reason) pairs a report keeps; the quarantine table has them all.
MAX_REPORTED_ERRORS = 100
# Files at least this big get a progress bar even when stderr is not a terminal.
LARGE_FILE_BYTES = 64 * 1024 * 1024
# How many lines (or records) format detection looks at before giving up.
DETECTION_WINDOW = 1000
RECORDS_SOURCE = "<records>"


class IngestReport(BaseModel):
    """What one ingest did."""

    path: str
    format: str | None = None
    lines: int = 0
    inserted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    # Blank lines: skipped silently, never quarantined.
    skipped: int = 0
    errors: list[tuple[int | None, str]] = Field(default_factory=list)
    elapsed: float = 0.0

    def summary(self) -> str:
        """One line for people: what was read and what became of it."""
        parts = [
            f"{self.lines} {'line' if self.lines == 1 else 'lines'}",
            f"{self.inserted} inserted",
            f"{self.duplicates} duplicate{'' if self.duplicates == 1 else 's'}",
            f"{self.quarantined} quarantined",
        ]
        if self.skipped:
            parts.append(f"{self.skipped} blank skipped")
        shown_format = self.format or "format unknown"
        return f"{self.path} ({shown_format}): {', '.join(parts)} in {self.elapsed:.1f}s"


def ingest_file(
    path: str | Path,
    store: RuleStore,
    *,
    format: Format | str | None = None,
    namespace: str | None = None,
    user_id: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    limits: InputLimits = DEFAULT_LIMITS,
) -> IngestReport:
    """Ingest one file of logs into ``store`` and report what happened.

    ``format`` (plain, openai, memorybench) is detected from the first record when not given. ``namespace``
    and ``user_id`` fill in records that do not name one; a record naming a different one is quarantined.
    Invalid lines, and lines over ``limits``, are quarantined with their line number and reason; blank lines
    are skipped. Raises ``SourceError`` when the file cannot be read and ``FormatDetectionError`` when its
    format cannot be told.
    """
    _check_batch_size(batch_size)
    started = time.perf_counter()
    source = Path(path)
    size = _readable_size(source)
    layout = detect_layout(source)
    with _progress_bar(progress, size, source.name) as bar:
        on_progress = bar.update if bar is not None else None
        with closing(iter_source(source, layout, on_progress, max_line_bytes=limits.max_record_bytes)) as stream:
            if format is not None:
                chosen: Format | None = parse_format(format)
                items: Iterable[SourceItem] = stream
                format_for: Callable[[dict[str, Any]], Format | None] = lambda _value: chosen  # noqa: E731
            else:
                chosen, items, detected_at = _detect_stream_format(source, stream)
                format_for = _detected_format_checker(chosen, detected_at)
            report = IngestReport(path=str(source), format=chosen.value if chosen else None)
            _ingest_items(
                items,
                store,
                report,
                quarantine_source=str(source.resolve()),
                format_for=format_for,
                namespace=namespace,
                user_id=user_id,
                batch_size=batch_size,
                limits=limits,
            )
    report.elapsed = time.perf_counter() - started
    return report


def ingest_records(
    records: Iterable[dict[str, Any] | LogRecord],
    store: RuleStore,
    *,
    format: Format | str | None = None,
    namespace: str | None = None,
    user_id: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    source: str = RECORDS_SOURCE,
    limits: InputLimits = DEFAULT_LIMITS,
) -> IngestReport:
    """Ingest in-memory records: ``LogRecord``s as they are, dicts parsed as ``format`` (detected per record
    when not given). Quarantine rows name ``source`` and the 1-based position of the record; records over
    ``limits`` are quarantined too."""
    _check_batch_size(batch_size)
    started = time.perf_counter()
    fixed = parse_format(format) if format is not None else None
    report = IngestReport(path=source, format=fixed.value if fixed else None)

    def format_for(value: dict[str, Any]) -> Format:
        return fixed if fixed is not None else detect_format(value)

    _ingest_items(
        _items_from_records(records),
        store,
        report,
        quarantine_source=source,
        format_for=format_for,
        namespace=namespace,
        user_id=user_id,
        batch_size=batch_size,
        limits=limits,
    )
    report.elapsed = time.perf_counter() - started
    return report


# ----------------------------------------------------------------------------------------------------- core


class _BatchWriter:
    """Collects logs and quarantine records, writing each batch in one transaction."""

    def __init__(self, store: RuleStore, report: IngestReport, source: str, namespace: str, size: int) -> None:
        self.store = store
        self.report = report
        self.source = source
        self.namespace = namespace
        self.size = size
        self.pending: list[tuple[SourceItem, LogRecord]] = []
        self.bad: list[QuarantineRecord] = []

    def add_log(self, item: SourceItem, log: LogRecord) -> None:
        self.pending.append((item, log))
        self._flush_if_full()

    def quarantine(self, item: SourceItem, reason: str) -> None:
        self._hold_bad(item, reason)
        self._flush_if_full()

    def flush(self) -> None:
        if not self.pending and not self.bad:
            return
        try:
            with self.store.transaction():
                result = self.store.add_logs([log for _item, log in self.pending])
                # A log whose id is stored with other content is refused by the store: quarantined with the
                # store's reason, in the same transaction as the batch.
                refused = [(self.pending[c.position][0], c.reason) for c in result.conflicts]
                quarantined = [*self.bad, *(self._quarantine_record(item, reason) for item, reason in refused)]
                if quarantined:
                    self.store.add_quarantine(quarantined)
            for item, reason in refused:
                self._count_bad(item, reason)
        except ValueError:
            # The store refused the batch (e.g. a derived id clash) and rolled it back: rather than lose the
            # batch, write it log by log and quarantine the ones refused.
            result = self._write_one_by_one()
        self.report.inserted += len(result.inserted)
        self.report.duplicates += len(result.duplicates)
        self.pending, self.bad = [], []

    def _write_one_by_one(self) -> AddResult:
        result = AddResult()
        with self.store.transaction():
            for item, log in self.pending:
                try:
                    with self.store.transaction():
                        added = self.store.add_logs([log])
                except ValueError as error:
                    self._hold_bad(item, f"the store refused log {log.id!r}: {error}")
                    continue
                for conflict in added.conflicts:
                    self._hold_bad(item, conflict.reason)
                added.conflicts.clear()
                result += added
            if self.bad:
                self.store.add_quarantine(self.bad)
        return result

    def _hold_bad(self, item: SourceItem, reason: str) -> None:
        self.bad.append(self._quarantine_record(item, reason))
        self._count_bad(item, reason)

    def _quarantine_record(self, item: SourceItem, reason: str) -> QuarantineRecord:
        return QuarantineRecord(
            namespace=self.namespace,
            source=self.source,
            line=item.line,
            reason=truncate_raw(reason),
            raw=truncate_raw(item.raw),
        )

    def _count_bad(self, item: SourceItem, reason: str) -> None:
        self.report.quarantined += 1
        if len(self.report.errors) < MAX_REPORTED_ERRORS:
            self.report.errors.append((item.line, reason))

    def _flush_if_full(self) -> None:
        if len(self.pending) + len(self.bad) >= self.size:
            self.flush()


def _ingest_items(
    items: Iterable[SourceItem],
    store: RuleStore,
    report: IngestReport,
    *,
    quarantine_source: str,
    format_for: Callable[[dict[str, Any]], Format | None],
    namespace: str | None,
    user_id: str | None,
    batch_size: int,
    limits: InputLimits,
) -> None:
    writer = _BatchWriter(store, report, quarantine_source, namespace or DEFAULT_NAMESPACE, batch_size)
    for item in items:
        report.lines += 1
        if item.blank:
            report.skipped += 1
            continue
        if item.error is not None:
            writer.quarantine(item, item.error)
            continue
        try:
            writer.add_log(item, _to_log(item.value, format_for, namespace, user_id, limits))
        except (InvalidRecord, FormatDetectionError) as error:
            writer.quarantine(item, str(error))
    writer.flush()


def _to_log(
    value: object,
    format_for: Callable[[dict[str, Any]], Format | None],
    namespace: str | None,
    user_id: str | None,
    limits: InputLimits,
) -> LogRecord:
    """The record as a log within ``limits``: checked before it is read (nesting, invalid text) and after (sizes)."""
    if isinstance(value, LogRecord):
        return apply_scope(check_log(value, limits), namespace=namespace, user_id=user_id)
    if not isinstance(value, dict):
        raise InvalidRecord.at((), f"expected a JSON object, got {json_type_name(value)}")
    check_raw_record(value, limits)
    chosen = format_for(value)
    if chosen is None:
        # Only possible when no record of the file identified its format, so this one cannot either.
        chosen = detect_format(value)
    return check_log(parse_record(value, chosen, namespace=namespace, user_id=user_id), limits)


def _items_from_records(records: Iterable[dict[str, Any] | LogRecord]) -> Iterator[SourceItem]:
    for position, record in enumerate(records, start=1):
        yield SourceItem(line=position, raw=_raw_text(record), value=record)


def _raw_text(record: object) -> str:
    """The record as JSON for the quarantine; a short description when it cannot be written as JSON (nested
    past the serialiser's depth, a lone surrogate, ...), so an unwritable record is quarantined, not fatal."""
    try:
        if isinstance(record, LogRecord):
            return record.model_dump_json()
        return json.dumps(record, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError) as error:
        return f"<{type(record).__name__} that cannot be written as JSON: {type(error).__name__}>"


def _detect_stream_format(
    path: Path, items: Iterator[SourceItem]
) -> tuple[Format | None, Iterator[SourceItem], int | None]:
    """The format of the first record whose keys identify one, the items again from the start, and the line
    the format was told from.

    Looks at the first ``DETECTION_WINDOW`` items, buffering them so that the file is still read once. When
    they hold no JSON object at all the format is None, and each later record is detected on its own.
    """
    buffered = list(islice(items, DETECTION_WINDOW))
    first_failure: tuple[int, FormatDetectionError] | None = None
    for item in buffered:
        if item.error is not None or not isinstance(item.value, dict):
            continue
        try:
            return detect_format(item.value), chain(buffered, items), item.line
        except FormatDetectionError as error:
            if first_failure is None:
                first_failure = (item.line, error)
    if first_failure is not None:
        line, failure = first_failure
        raise FormatDetectionError(f"{path}: line {line}: {failure}; name the format (plain, openai or memorybench)")
    return None, chain(buffered, items), None


def _detected_format_checker(
    chosen: Format | None, detected_at: int | None
) -> Callable[[dict[str, Any]], Format | None]:
    """The file's detected format for each record, refusing a record whose own keys name another format.

    Parsing such a record as the file's format would report a misleading list of missing and unknown fields;
    the reason says instead that the format changed, and where the file's format was told from.
    """

    def format_for(value: dict[str, Any]) -> Format | None:
        if chosen is None:
            return None
        try:
            own = detect_format(value)
        except FormatDetectionError:
            return chosen  # keys that name no format: parsing as the file's format says what is missing
        if own is not chosen:
            raise InvalidRecord.at(
                (),
                f"the record is in the {own.value} format but the file is {chosen.value} (told from line "
                f"{detected_at}): a file holds one format; split it, or ingest with format= named",
            )
        return chosen

    return format_for


def _readable_size(path: Path) -> int:
    """The size of ``path`` in bytes; ``SourceError`` if it is not a readable file."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot read: {error.strerror or error}") from None
    if path.is_dir():
        raise SourceError(f"{path}: is a directory, not a file")
    return stat.st_size


def truncate_raw(raw: str, limit: int = MAX_RAW_BYTES) -> str:
    """``raw`` cut to ``limit`` bytes of UTF-8 without splitting a character."""
    # Always re-decoded: a lone surrogate in ``raw`` (JSON can spell one) becomes "?" instead of failing the write.
    encoded = raw.encode("utf-8", errors="replace")
    return encoded[:limit].decode("utf-8", errors="ignore")


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")


def _progress_bar(enabled: bool, size: int, label: str) -> AbstractContextManager[tqdm[Any] | None]:
    """A tqdm bar over bytes when asked for and useful (a terminal, or a file big enough to wait for)."""
    if not enabled or not (size >= LARGE_FILE_BYTES or sys.stderr.isatty()):
        return nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=size, unit="B", unit_scale=True, desc=label, file=sys.stderr, mininterval=0.5, leave=False)


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "IngestReport",
    "ingest_file",
    "ingest_records",
    "truncate_raw",
]
