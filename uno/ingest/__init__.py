"""Ingest user logs from files or in-memory records into a ``RuleStore``.

One entry point per source: ``ingest_file`` (JSON lines, JSON documents, gzip of either; the format
detected from the records or named) and ``ingest_records`` (dicts or ``LogRecord``s). Valid records
become logs; invalid ones, and ones over the ``InputLimits``, are quarantined with a precise reason.
``uno.ingest.formats`` lists the accepted formats.
"""

from uno.ingest.errors import FormatDetectionError, IngestError, InvalidRecord, Problem, SourceError
from uno.ingest.formats import Format, apply_scope, detect_format, parse_feedback, parse_format, parse_record
from uno.ingest.limits import DEFAULT_LIMITS, InputLimits, check_feedback, check_log
from uno.ingest.pipeline import DEFAULT_BATCH_SIZE, IngestReport, ingest_file, ingest_records
from uno.ingest.reader import Layout, detect_layout

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LIMITS",
    "Format",
    "FormatDetectionError",
    "IngestError",
    "IngestReport",
    "InputLimits",
    "InvalidRecord",
    "Layout",
    "Problem",
    "SourceError",
    "apply_scope",
    "check_feedback",
    "check_log",
    "detect_format",
    "detect_layout",
    "ingest_file",
    "ingest_records",
    "parse_feedback",
    "parse_format",
    "parse_record",
]
