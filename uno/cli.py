"""``uno``: the command line. Import logs, look at what is stored, export it.

Everything beyond click and the path helpers is imported inside the commands, so ``uno --help`` starts fast and
never loads torch, sentence-transformers or FAISS.
"""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

import click

from rule_store.protocol import LeaseHeld
from rule_store.records import DEFAULT_NAMESPACE
from uno import __version__
from uno.extras import DISTRIBUTION, MissingExtraError, require
from uno.paths import STORE_ENV, StorePaths

if TYPE_CHECKING:
    from pydantic import BaseModel

    from rule_store.protocol import RuleStore, Scope
    from rule_store.records import LogRecord, QuarantineRecord, Rule
    from uno.ingest import IngestReport
    from uno.llm import LLM
    from uno.memory import UnoMemory

# Exit codes: 1 for "what you asked for is not there", 2 for bad input (click's own usage errors are 2 too).
EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2
# Another process is doing what was asked (a build of the same namespace): try again when it is done.
EXIT_BUSY = 3
# How many quarantined lines ``uno ingest`` prints per file before pointing at ``uno inspect quarantine``.
DEFAULT_SHOWN_ERRORS = 10
FORMATS = ("plain", "openai", "memorybench", "openwebui", "langfuse")
EXPORT_KINDS = ("logs", "rules", "quarantine", "pairs", "all")
RULE_STATUSES = ("candidate", "active", "superseded", "retired")
LLM_MODEL_ENV = "UNO_LLM_MODEL"
BUSY_TIMEOUT_ENV = "UNO_BUSY_TIMEOUT_S"
LLM_HELP = "litellm model that distils the logs (e.g. openai/gpt-4o-mini); default: the offline distiller."
QUIET_HELP = "No progress bars (they are drawn only when stderr is a terminal anyway)."
EXECUTOR_HELP = (
    "Where distillation and embedding run: local (this process), ray (a Ray instance started on this machine for "
    "the build), or ray://ADDRESS (a running Ray cluster through Ray Client, HOST:PORT, port 10001 by default). "
    "The store is written by this process either way. Ray needs the [ray] extra."
)

MAIN_EPILOG = f"""\b
Examples:
  uno ingest logs.jsonl                   import logs (format detected)
  uno ingest --format openai chats.jsonl.gz
  uno build                               learn rules from what was imported
  uno augment "Is the shop open Monday?"  the prompt uno would send, with its rules
  uno stats                               what the store holds
  uno inspect quarantine                  lines that could not be imported, and why
  uno inspect rules --status active       the rules learnt so far
  uno export rules --out rules.jsonl      everything as JSON lines
  uno rules add --when "someone asks for a recipe" --do "List the ingredients first."
  uno rules retire RULE_ID                manage rules by hand (list, get, edit, delete, pin, history ...)
  uno search "short answers"              the rules closest to a text
  uno forget --user-id u42                delete a user's logs and what was learnt only from them
  uno backup uno-backup.sqlite            copy the whole store (restore with `uno restore`)
  uno train --base-model smollm2 --judge openai/gpt-4o-mini   bake mature clusters into LoRA adapters

\b
The store is a directory (SQLite database + index files) or a PostgreSQL URL that many replicas share
(postgresql://user@host/db): --store DIR|URL, else ${STORE_ENV}, else ./.uno.
Namespaces keep tenants apart: --namespace NAME scopes every command to one of them."""


class BadInput(click.ClickException):
    """An input the command cannot use (missing file, unknown store): exit code 2."""

    exit_code = EXIT_BAD_INPUT


class Busy(click.ClickException):
    """Another process holds what the command needs (a build of the same namespace): exit code 3."""

    exit_code = EXIT_BUSY


class NotFound(click.ClickException):
    """The record asked for does not exist in scope: exit code 1."""

    exit_code = EXIT_NOT_FOUND


class _UnoGroup(click.Group):
    """Turns a store that cannot be opened (corrupt, locked, from a newer uno) into one line saying what to do."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except sqlite3.DatabaseError as error:
            raise BadInput(_store_problem(ctx, error)) from None
        except LeaseHeld as error:
            raise Busy(f"{error}: retry when it is done") from None
        except RuntimeError as error:
            if type(error).__name__ != "SchemaVersionError":
                raise
            raise BadInput(str(error)) from None
        except Exception as error:
            # A PostgreSQL store that cannot be reached: one line, with the URL's password left out.
            if not type(error).__module__.startswith("psycopg"):
                raise
            state = ctx.find_object(CliState)
            where = state.paths.display if state is not None else "the store"
            raise BadInput(f"the store {where} cannot be used: {error}".strip()) from None


def _store_problem(ctx: click.Context, error: sqlite3.DatabaseError) -> str:
    state = ctx.find_object(CliState)
    where = state.paths.database if state is not None and state.paths.url is None else "the store"
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return (
            f"the store {where} is locked by another process (a build, an import or a server writing to it): "
            "retry when it is done"
        )
    return (
        f"the store {where} cannot be read ({error}): it is damaged or not an uno store; restore a backup with "
        "`uno restore FILE --yes`, or point --store at another directory"
    )


class URL(click.ParamType[str]):
    """An http(s) URL with a host: a typo is reported when the command starts, not at the first request."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        try:
            parts = urlsplit(text)
            port_ok = parts.port is None or 0 < parts.port < 65536
        except ValueError:
            parts, port_ok = None, False
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            self.fail(f"{text!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:11434", param, ctx)
        return text


@dataclass(frozen=True)
class CliState:
    """The global options, shared by every command."""

    # A directory, or a PostgreSQL URL (kept as text: a ``Path`` would fold the URL's ``//``).
    store_dir: str | None
    namespace: str | None

    @property
    def paths(self) -> StorePaths:
        return StorePaths.resolve(self.store_dir)

    def scope(self) -> Scope:
        from rule_store.protocol import Scope

        return Scope(namespace=self.namespace)

    @contextmanager
    def open_store(self, *, create: bool = False) -> Iterator[RuleStore]:
        """The store (SQLite, or PostgreSQL for a URL); reading commands refuse to create a SQLite one where
        there is none (a likely typo)."""
        paths = self.paths
        if not create and not paths.exists():
            raise BadInput(f"no uno store at {paths.root} (run `uno ingest FILE` to create one, or pass --store DIR)")
        from rule_store.factory import open_store

        store = open_store(paths.ensure().spec, busy_timeout_s=_busy_timeout())
        try:
            yield store
        finally:
            store.close()


pass_state = click.make_pass_decorator(CliState)


@click.group(cls=_UnoGroup, epilog=MAIN_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    "store_dir",
    default=None,
    metavar="DIR|URL",
    help=f"Store directory, or postgresql:// URL of a shared store. [default: ${STORE_ENV}, else ./.uno]",
)
@click.option("--namespace", default=None, help="Work inside this namespace (tenant) only.")
@click.version_option(version=__version__, prog_name="uno", message=f"%(prog)s %(version)s ({DISTRIBUTION})")
@click.pass_context
def main(ctx: click.Context, store_dir: str | None, namespace: str | None) -> None:
    """uno learns from your LLM app's user logs: it imports conversations with their feedback (follow-ups,
    edits, reactions, ratings), distils them into rules, and injects the relevant rules into new prompts.
    """
    ctx.obj = CliState(store_dir=store_dir, namespace=namespace)


# ------------------------------------------------------------------------------------------ ingest

INGEST_EPILOG = """\b
Formats (detected from the first record unless --format is given):
  plain        {"query", "response", "feedback": [...], "user_id"?, "id"?, ...}
  openai       {"messages": [{"role", "content"}, ...], "feedback"?: [...]}
  memorybench  MemoryBench rows (test_idx, dialog, implicit_feedback, ...)
  openwebui    Open WebUI's feedback export (ratings, comments, the chat snapshot)
  langfuse     Langfuse traces with their scores (the public API's trace objects)
Files: .jsonl (streamed), .json (an array, or {"data": [...]}), either one .gz.

\b
Lines that cannot be imported are quarantined with their line number and the reason; the
rest is imported. Running the same import again adds nothing. Exit code: 0 when every file
was read (even with quarantined lines), 2 when a file cannot be read or every record of a
file was quarantined.

\b
Examples:
  uno ingest logs.jsonl
  uno --namespace acme ingest --user-id u42 u42.jsonl
  uno ingest --format memorybench NFCats-train.jsonl.gz"""


@main.command(epilog=INGEST_EPILOG)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "format_name", type=click.Choice(FORMATS), default=None, help="Input format.")
@click.option("--user-id", default=None, help="User the logs belong to (for records that do not say).")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1), help="Logs per commit.")
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Progress bar (shown on a terminal, or for large files).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option(
    "--show-errors",
    default=DEFAULT_SHOWN_ERRORS,
    show_default=True,
    type=click.IntRange(min=0),
    help="Quarantined lines to list per file.",
)
@pass_state
def ingest(
    state: CliState,
    files: tuple[Path, ...],
    format_name: str | None,
    user_id: str | None,
    batch_size: int,
    progress: bool,
    as_json: bool,
    show_errors: int,
) -> None:
    """Import log FILES into the store."""
    from uno.ingest import FormatDetectionError, SourceError, ingest_file

    missing = [path for path in files if not path.is_file()]
    if missing:
        # Checked up front: a typo in one name should not leave the store half-imported.
        raise BadInput("; ".join(_not_a_file(path) for path in missing) + "; nothing was imported")
    reports: list[IngestReport] = []
    failures = 0
    with state.open_store(create=True) as store:
        for path in files:
            try:
                report = ingest_file(
                    path,
                    store,
                    format=format_name,
                    namespace=state.namespace,
                    user_id=user_id,
                    batch_size=batch_size,
                    progress=progress,
                )
            except (SourceError, FormatDetectionError) as error:
                failures += 1
                click.echo(f"error: {error}", err=True)
                continue
            reports.append(report)
            if not as_json:
                _echo_report(report, show_errors)
    if as_json:
        click.echo(json.dumps([report.model_dump(mode="json") for report in reports], indent=2))
    elif len(reports) > 1:
        click.echo(_totals(reports))
    for report in reports:
        if report.quarantined and not (report.inserted or report.duplicates):
            failures += 1
            click.echo(
                f"error: every record of {report.path} was quarantined (see the reasons above, or "
                f"`uno inspect quarantine --source {report.path}`): is it the right file and --format?",
                err=True,
            )
    if failures:
        sys.exit(EXIT_BAD_INPUT)


def _not_a_file(path: Path) -> str:
    if path.is_dir():
        return f"{path}: is a directory, not a file"
    if not path.exists():
        return f"{path}: no such file"
    return f"{path}: not a regular file"


def _echo_report(report: IngestReport, show_errors: int) -> None:
    click.echo(report.summary())
    for line, reason in report.errors[:show_errors]:
        click.echo(f"  line {line}: {reason}")
    hidden = report.quarantined - min(show_errors, len(report.errors))
    if hidden > 0:
        click.echo(f"  ... {hidden} more: uno inspect quarantine --source {report.path}")


def _totals(reports: Sequence[IngestReport]) -> str:
    inserted = sum(r.inserted for r in reports)
    duplicates = sum(r.duplicates for r in reports)
    quarantined = sum(r.quarantined for r in reports)
    return f"total: {len(reports)} files, {inserted} inserted, {duplicates} duplicates, {quarantined} quarantined"


# ------------------------------------------------------------------------------------------ stats


@main.command(epilog="\b\nExamples:\n  uno stats\n  uno --namespace acme stats --json")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_state
def stats(state: CliState, as_json: bool) -> None:
    """Count what the store holds (logs, rules by status, clusters, quarantine, ...)."""
    with state.open_store() as store:
        counts = store.stats(state.scope())
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    title = f"namespace {state.namespace}" if state.namespace else "all namespaces"
    click.echo(f"{state.paths.display} ({title})")
    click.echo(_table([(name, str(count)) for name, count in counts.items()], align_right={1}))


# ------------------------------------------------------------------------------------------ inspect

INSPECT_EPILOG = """\b
Examples:
  uno inspect log log-3f2a9c0d1e2b4a5f
  uno inspect rule rule-8c1d0e2f3a4b5c6d       the rule and the logs it came from
  uno inspect rules --status active
  uno inspect quarantine --source logs.jsonl"""


@main.group(epilog=INSPECT_EPILOG)
def inspect() -> None:
    """Look at one log or rule, the rules, or the quarantine."""


@inspect.command("log")
@click.argument("log_id")
@click.option("--json", "as_json", is_flag=True, help="Print the log as JSON.")
@pass_state
def inspect_log(state: CliState, log_id: str, as_json: bool) -> None:
    """Show the log LOG_ID: its messages and feedback."""
    with state.open_store() as store:
        found = store.get_logs([log_id], state.scope())
    if not found:
        raise NotFound(f"no log {log_id!r}{_in_namespace(state)}")
    log = found[0]
    if as_json:
        click.echo(log.model_dump_json(indent=2))
        return
    click.echo(_describe_log(log))


@inspect.command("rule")
@click.argument("rule_id")
@click.option("--json", "as_json", is_flag=True, help="Print the rule (and its source log ids) as JSON.")
@pass_state
def inspect_rule(state: CliState, rule_id: str, as_json: bool) -> None:
    """Show the rule RULE_ID with its evidence and the logs it was derived from."""
    with state.open_store() as store:
        found = store.get_rules([rule_id], state.scope())
        if not found:
            raise NotFound(f"no rule {rule_id!r}{_in_namespace(state)}")
        sources = store.rule_sources(rule_id)
    rule = found[0]
    if as_json:
        body = rule.model_dump(mode="json")
        body["source_log_ids"] = sources
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    click.echo(_describe_rule(rule, sources))


@inspect.command("rules")
@click.option("--status", type=click.Choice(RULE_STATUSES), multiple=True, help="Only these statuses.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show at most this many.")
@pass_state
def inspect_rules(state: CliState, status: tuple[str, ...], limit: int | None) -> None:
    """List rules: id, status, support, confidence and text."""
    from rule_store.records import RuleStatus

    with state.open_store() as store:
        rules = store.list_rules(state.scope(), status=[RuleStatus(s) for s in status] or None)
    shown = rules[:limit] if limit else rules
    rows = [("ID", "STATUS", "SUPPORT", "CONF", "RULE")]
    rows += [(r.id, r.status.value, str(r.support), f"{r.confidence:.2f}", _clip(r.text, 90)) for r in shown]
    click.echo(_table(rows) if shown else "no rules")
    if len(shown) < len(rules):
        click.echo(f"... {len(rules) - len(shown)} more")


@inspect.command("quarantine")
@click.option("--source", default=None, help="Only lines from this input file.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Show at most this many.")
@pass_state
def inspect_quarantine(state: CliState, source: str | None, limit: int) -> None:
    """List inputs that could not be imported, with where they came from and why."""
    with state.open_store() as store:
        records = store.list_quarantine(state.scope(), source=_source_key(source))
    records.sort(key=lambda q: (q.source, q.line if q.line is not None else -1))
    for record in records[:limit]:
        click.echo(_describe_quarantine(record))
    if not records:
        click.echo("nothing quarantined" + (f" from {source}" if source else ""))
    elif len(records) > limit:
        click.echo(f"... {len(records) - limit} more (uno export quarantine lists them all)")


def _source_key(source: str | None) -> str | None:
    """Ingest records absolute paths: match a path given relative to here as well."""
    if source is None:
        return None
    candidate = Path(source)
    return str(candidate.resolve()) if candidate.exists() else source


# ------------------------------------------------------------------------------------------ export

EXPORT_EPILOG = """\b
Examples:
  uno export logs --out logs.jsonl      (reads back with `uno ingest`)
  uno export rules > rules.jsonl
  uno export all --out acme.jsonl       (reads back with `uno import`: rules, edits, verdicts, history)
  uno --namespace acme export pairs --out dpo-pairs.jsonl"""


@main.command(epilog=EXPORT_EPILOG)
@click.argument("kind", type=click.Choice(EXPORT_KINDS))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@pass_state
def export(state: CliState, kind: str, out: Path | None) -> None:
    """Write logs, rules, quarantine or preference pairs as JSON lines; `all`: what `uno import` reads back (logs,
    rules with their manual edits, verdicts, rule history) of one namespace."""
    if kind == "all":
        with _open_memory(state) as memory:
            lines = (_JsonLine(line) for line in memory.export_records())
            count = _write_jsonl(lines, sys.stdout) if out is None else _write_jsonl_file(lines, out)
        if out is not None:
            click.echo(f"wrote {count} records to {out}", err=True)
        return
    with state.open_store() as store:
        records = _records_to_export(store, kind, state.scope())
        count = _write_jsonl(records, sys.stdout) if out is None else _write_jsonl_file(records, out)
    if out is not None:
        click.echo(f"wrote {count} {kind} to {out}", err=True)


def _records_to_export(store: RuleStore, kind: str, scope: Scope) -> Iterable[BaseModel]:
    if kind == "logs":
        return store.iter_logs(scope)
    if kind == "rules":
        return store.list_rules(scope)
    if kind == "quarantine":
        return store.list_quarantine(scope)
    return store.list_preference_pairs(scope)


@dataclass(frozen=True)
class _JsonLine:
    """A plain dict written like a record."""

    data: dict[str, Any]

    def model_dump_json(self) -> str:
        return json.dumps(self.data, ensure_ascii=False)


def _write_jsonl(records: Iterable[BaseModel | _JsonLine], stream: TextIO) -> int:
    count = 0
    for record in records:
        stream.write(record.model_dump_json() + "\n")
        count += 1
    return count


def _write_jsonl_file(records: Iterable[BaseModel | _JsonLine], out: Path) -> int:
    """Write through a temporary file so that a failed export never leaves a truncated file behind."""
    partial = out.with_name(out.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as stream:
            count = _write_jsonl(records, stream)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


# -------------------------------------------------------------------------------- lead: build, demo
@main.command(
    epilog="\b\nExamples:\n  uno build\n  uno build --full\n  uno --namespace acme build --json\n"
    "  uno build --executor ray                   on a Ray instance started on this machine\n"
    "  uno build --executor ray://10.0.0.5:10001  on a running Ray cluster (`ray start --head` on 10.0.0.5)"
)
@click.option("--full", is_flag=True, help="Re-distil and re-cluster everything, not just what is new.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.option(
    "--llm", "llm_model", default=None, envvar=LLM_MODEL_ENV, metavar="MODEL", help=LLM_HELP, show_envvar=True
)
@click.option("--llm-base", default=None, type=URL(), metavar="URL", help="API base URL of the --llm model.")
@click.option("--executor", default="local", show_default=True, metavar="local|ray|ray://ADDRESS", help=EXECUTOR_HELP)
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
@pass_state
def build(
    state: CliState, full: bool, as_json: bool, llm_model: str | None, llm_base: str | None, executor: str, quiet: bool
) -> None:
    """Distil, embed, cluster, gate and index the logs added since the last build."""
    if not state.paths.exists():
        raise BadInput(f"no uno store at {state.paths.root} (run `uno ingest FILE` first)")
    from uno.executor import parse_executor
    from uno.memory import UnoMemory

    try:
        parse_executor(executor)  # a typo fails here, before the store is opened
    except ValueError as error:
        raise BadInput(f"--executor: {error}") from None
    llm = _llm(llm_model, llm_base)
    progress = _progress(quiet)
    with UnoMemory(
        state.paths.location, namespace=state.namespace or DEFAULT_NAMESPACE, progress=progress, llm=llm
    ) as memory:
        try:
            report = memory.build(full=full, executor=executor)
        except (MissingExtraError, ConnectionError) as error:
            raise BadInput(str(error)) from None
    click.echo(report.model_dump_json(indent=2 if not as_json else None))


@main.command(
    epilog='\b\nExamples:\n  uno augment "Is the shop open on Monday?"\n'
    '  uno augment --explain --user-id u42 "Can I cancel my plan?"'
)
@click.argument("query")
@click.option("--user-id", default=None, help="Serve this user (their personal rules plus shared ones).")
@click.option("--explain", is_flag=True, help="Say why each rule was chosen.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole augmentation as JSON.")
@pass_state
def augment(state: CliState, query: str, user_id: str | None, explain: bool, as_json: bool) -> None:
    """Show the messages uno would send to the model for QUERY, with the rules it learnt."""
    _nonempty_query(query, "augment")
    if not state.paths.exists():
        raise BadInput(f"no uno store at {state.paths.root} (run `uno ingest FILE` and `uno build` first)")
    from uno.memory import UnoMemory

    with UnoMemory(state.paths.location, namespace=state.namespace or DEFAULT_NAMESPACE) as memory:
        result = memory.augment(query, user_id=user_id, explain=explain)
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    click.echo(f"route: {result.route.value}   injected tokens: {result.tokens}")
    for message in result.messages:
        click.echo(f"--- {message['role']}\n{message['content']}")
    for note in result.explanation or []:
        click.echo(f"why: {note}")


@main.command(epilog="\b\nExamples:\n  uno demo\n  uno demo --store ./demo-store   # keep the store afterwards")
@click.option("--keep", is_flag=True, help="Build the demo in --store (default ./.uno) and keep it.")
@pass_state
def demo(state: CliState, keep: bool) -> None:
    """Run the whole loop on the bundled sample logs, offline: ingest, build, augment a few new queries."""
    from uno.demo import run_demo

    if state.paths.url is not None:
        raise BadInput("uno demo builds a store directory: give --store DIR, not a database URL")
    run_demo(state.paths.root if keep or state.store_dir else None, echo=click.echo)


# ------------------------------------------------------------------------------------------ train

TRAIN_EPILOG = """\b
Examples:
  uno train --base-model smollm2 --judge openai/gpt-4o-mini
  uno train --base-model ./qwen3-8b --judge openai/gpt-4o-mini --cluster clu-0ee4ebacbb6de958 --epochs 8
  uno train --base-model smollm2 --judge-local smollm2 --epochs 2 --lora-r 8      (fully offline, a toy judge)
  uno adapters                                                   the registry: every version, status and reason

\b
Needs the [train] extra (pip install 'uno-memory[train]'). A cluster is baked when it is mature (enough
preference pairs and hindsight triples, low gap); the adapter is kept only when its held-out win
rate against the base model, judged by --judge, reaches the threshold (0.53, BLEU drift guard)."""


@main.command(epilog=TRAIN_EPILOG)
@click.option("--base-model", required=True, help="Transformers checkpoint dir, GGUF file, or 'smollm2' (bundled).")
@click.option("--judge", "judge_model", default=None, metavar="MODEL", help="litellm model judging held-out answers.")
@click.option("--judge-base", default=None, type=URL(), metavar="URL", help="API base URL of the judge model.")
@click.option("--judge-local", default=None, metavar="PATH", help="Judge with a local model (dir, GGUF or 'smollm2').")
@click.option("--cluster", "clusters", multiple=True, help="Only these clusters (repeatable).")
@click.option("--kind", "kinds", type=click.Choice(["expert", "critic"]), multiple=True, help="Only these kinds.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Epochs (default 8, UNO's).")
@click.option("--lora-r", type=click.IntRange(min=1), default=None, help="LoRA rank (default 64; alpha = 2r).")
@click.option("--min-examples", type=click.IntRange(min=1), default=None, help="Examples a cluster needs (8).")
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=None, help="Answer length when validating.")
@click.option("--force", is_flag=True, help="Retrain clusters whose adapter is up to date.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
@pass_state
def train(
    state: CliState,
    base_model: str,
    judge_model: str | None,
    judge_base: str | None,
    judge_local: str | None,
    clusters: tuple[str, ...],
    kinds: tuple[str, ...],
    epochs: int | None,
    lora_r: int | None,
    min_examples: int | None,
    max_new_tokens: int | None,
    force: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Bake mature clusters into LoRA adapters and keep the ones that beat the base model."""
    if not state.paths.exists():
        raise BadInput(f"no uno store at {state.paths.root} (run `uno ingest FILE` and `uno build` first)")
    if (judge_model is None) == (judge_local is None):
        raise BadInput("give exactly one of --judge MODEL and --judge-local PATH")
    _require_extra("train", "uno train", "peft")
    from uno.memory import UnoMemory
    from uno.train.config import LoRAShape, TrainConfig

    progress = _progress(quiet)
    judge = _judge(judge_model, judge_base, judge_local)
    overrides: dict[str, Any] = {}
    if epochs is not None:
        overrides["epochs"] = epochs
    if lora_r is not None:
        overrides["lora"] = LoRAShape(r=lora_r, alpha=2 * lora_r)
    if min_examples is not None:
        overrides["min_examples"] = min_examples
    if max_new_tokens is not None:
        overrides["max_new_tokens"] = max_new_tokens
    with UnoMemory(state.paths.location, namespace=state.namespace or DEFAULT_NAMESPACE, progress=progress) as memory:
        try:
            report = memory.train(
                base_model,
                judge=judge,
                clusters=list(clusters) or None,
                kinds=list(kinds) or ("expert", "critic"),
                config=TrainConfig(**overrides),
                force=force,
            )
        except (FileNotFoundError, KeyError) as error:
            raise BadInput(str(error)) from None
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    rows = [("cluster", "kind", "outcome", "reason")]
    rows += [(o.cluster_id, o.kind, o.status, _clip(o.reason, 110)) for o in report.outcomes]
    click.echo(_table(rows) if report.outcomes else "no clusters: run `uno build` first")
    click.echo(f"{len(report.accepted)} adapter(s) accepted in {report.seconds:.1f} s")


def _judge(model: str | None, api_base: str | None, local: str | None) -> Any:
    if local is not None:
        from uno.llm.local import TransformersLLM
        from uno.train.bake import resolve_base_model

        try:
            return TransformersLLM(resolve_base_model(local), max_tokens=64)
        except FileNotFoundError as error:
            raise BadInput(str(error)) from None
    from uno.llm import LiteLLM

    return LiteLLM(model, api_base=api_base)


@main.command(epilog="\b\nExamples:\n  uno adapters\n  uno adapters --status accepted --json")
@click.option(
    "--status",
    type=click.Choice(["candidate", "accepted", "rejected", "superseded", "stale"]),
    default=None,
    help="Only adapters with this status.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the adapters as JSON lines.")
@pass_state
def adapters(state: CliState, status: str | None, as_json: bool) -> None:
    """The adapter registry: every trained version, its status, win rate and reason."""
    from rule_store.records import AdapterStatus

    with state.open_store() as store:
        found = store.list_adapters(state.scope(), status=AdapterStatus(status) if status else None)
    if as_json:
        for adapter in found:
            click.echo(adapter.model_dump_json())
        return
    if not found:
        click.echo("no adapters" + _in_namespace(state) + ": `uno train` bakes them")
        return
    rows = [("name", "kind", "status", "win rate", "reason")]
    for adapter in found:
        win = adapter.metrics.get("win_rate")
        rows.append(
            (
                adapter.name,
                adapter.kind.value,
                adapter.status.value,
                "-" if win is None else f"{win:.3f}",
                _clip(adapter.status_reason, 90),
            )
        )
    click.echo(_table(rows))


# ------------------------------------------------------------------------------------------ serve

SERVE_EPILOG = """\b
Examples:
  uno serve --api-key sk-acme=acme                  REST API on http://127.0.0.1:8080
  uno serve --api-key sk-acme=acme --upstream openai/gpt-4o-mini
                                                    ... plus the OpenAI-compatible memory proxy
  UNO_API_KEYS=sk-acme=acme,sk-globex=globex uno serve --port 9000
  uno serve --no-auth --upstream ollama/llama3 --upstream-base http://127.0.0.1:11434

\b
Each API key belongs to one namespace (tenant) and sees only its data. An app switches to the
proxy by setting its OpenAI client's base_url to http://HOST:PORT/v1 and api_key to its uno key.
The upstream's own credentials come from litellm's environment variables (OPENAI_API_KEY, ...)
or from the variable named by --upstream-key-env. OpenAPI document: http://HOST:PORT/docs"""
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@main.command(epilog=SERVE_EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--upstream",
    default=None,
    metavar="MODEL",
    help="litellm model the proxy forwards to (e.g. openai/gpt-4o-mini); enables /v1/chat/completions.",
)
@click.option("--upstream-base", default=None, type=URL(), metavar="URL", help="API base URL of the upstream model.")
@click.option(
    "--upstream-key-env", default=None, metavar="VAR", help="Environment variable holding the upstream's API key."
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    metavar="KEY=NAMESPACE",
    help="An API key and its tenant (repeatable). Also read from $UNO_API_KEYS (comma-separated).",
)
@click.option(
    "--vouch-users",
    is_flag=True,
    help="The API keys belong to backends that send their users' real ids: each user counts as one source of "
    "support for a shared rule (without it, each key counts as one; see docs/threat-model.md).",
)
@click.option("--no-auth", is_flag=True, help="Serve without keys, all requests in --namespace (local use only).")
@click.option(
    "--strategy-bandit",
    is_flag=True,
    help="The proxy lets a per-cluster bandit choose how learnt material is used (none / rules / reflective / "
    "adapter); the feedback on each answer rewards the arm that produced it.",
)
@click.option("--no-explore", is_flag=True, help="With --strategy-bandit: the best arm so far, no exploration.")
@click.option(
    "--llm", "llm_model", default=None, envvar=LLM_MODEL_ENV, metavar="MODEL", help=LLM_HELP, show_envvar=True
)
@click.option("--llm-base", default=None, type=URL(), metavar="URL", help="API base URL of the --llm model.")
@click.option(
    "--max-body-bytes",
    default=2 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=1),
    help="Larger request bodies are refused (413).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@pass_state
def serve(
    state: CliState,
    host: str,
    port: int,
    upstream: str | None,
    upstream_base: str | None,
    upstream_key_env: str | None,
    api_keys: tuple[str, ...],
    vouch_users: bool,
    no_auth: bool,
    strategy_bandit: bool,
    no_explore: bool,
    max_body_bytes: int,
    log_level: str,
    llm_model: str | None,
    llm_base: str | None,
) -> None:
    """Serve the REST API and, with --upstream, the OpenAI-compatible memory proxy."""
    from uno.server.auth import API_KEYS_ENV, parse_api_keys

    try:
        keys = parse_api_keys([*os.environ.get(API_KEYS_ENV, "").split(","), *api_keys])
    except ValueError as error:
        raise BadInput(str(error)) from None
    if keys and no_auth:
        raise BadInput("--no-auth serves without keys: do not give API keys with it")
    if not keys and not no_auth:
        raise BadInput(f"no API key: pass --api-key KEY=NAMESPACE or set ${API_KEYS_ENV} (--no-auth for local use)")
    if upstream_key_env is not None and not os.environ.get(upstream_key_env):
        raise BadInput(f"--upstream-key-env: ${upstream_key_env} is not set")
    if no_auth and host not in _LOOPBACK:
        click.echo(f"warning: serving without API keys on {host}: anyone who can reach it can read the store", err=True)
    _require_extra("server", "uno serve", "fastapi", "uvicorn")
    import uvicorn

    from uno.memory import UnoMemory
    from uno.progress import silence_library_bars
    from uno.server import Upstream, create_app

    silence_library_bars()  # the embedding model's loading bar would land in the server's log

    namespace = state.namespace or DEFAULT_NAMESPACE
    model = None
    if upstream is not None:
        key = os.environ[upstream_key_env] if upstream_key_env else None
        model = Upstream(upstream, api_base=upstream_base, api_key=key)
    llm = _llm(llm_model, llm_base)
    with UnoMemory(state.paths.location, namespace=namespace, llm=llm) as memory:
        app = create_app(
            memory,
            api_keys=keys,
            vouch_users=list(keys) if vouch_users else (),
            upstream=model,
            anonymous_namespace=namespace if no_auth else None,
            max_body_bytes=max_body_bytes,
            warm_up=True,
            strategy_bandit=strategy_bandit,
            explore=not no_explore,
        )
        proxy = f", proxy to {upstream} at /v1/chat/completions" if upstream else ""
        click.echo(f"uno: serving {state.paths.display} on http://{host}:{port}{proxy}", err=True)
        uvicorn.run(app, host=host, port=port, log_level=log_level)


# ------------------------------------------------------------------------------------------ managing memory by hand

RULES_EPILOG = """\b
Examples:
  uno rules list --status active
  uno rules add --when "someone asks for a recipe" --do "List the ingredients first."
  uno rules edit RULE_ID --do "List the ingredients first, with quantities."
  uno rules retire RULE_ID --reason "outdated"      (restore brings it back)
  uno rules pin RULE_ID                             builds no longer change it
  uno rules delete RULE_ID                          for good, with its provenance
  uno rules history RULE_ID                         every change: who, when, before/after

\b
Every change is recorded in the rule's history with --by (default cli:<your login>)."""


@main.group(epilog=RULES_EPILOG)
def rules() -> None:
    """List, inspect, add, edit, delete, retire, restore, pin and unpin rules; show their history."""


_by_option = click.option("--by", default=None, help="Who makes the change, for the history [default: cli:<login>].")
_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@rules.command("list")
@click.option("--status", type=click.Choice(RULE_STATUSES), multiple=True, help="Only these statuses.")
@click.option("--user-id", default=None, help="Only rules learnt from this user's logs.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show at most this many.")
@_json_option
@pass_state
def rules_list(state: CliState, status: tuple[str, ...], user_id: str | None, limit: int | None, as_json: bool) -> None:
    """List the rules: id, status, flags (manual, pinned, edited) and text."""
    from rule_store.protocol import Scope
    from rule_store.records import RuleStatus

    with state.open_store() as store:
        found = store.list_rules(
            Scope(namespace=state.namespace, user_id=user_id), status=[RuleStatus(s) for s in status] or None
        )
    shown = found[:limit] if limit else found
    if as_json:
        for rule in shown:
            click.echo(rule.model_dump_json())
        return
    rows = [("ID", "STATUS", "FLAGS", "SUPPORT", "RULE")]
    rows += [(r.id, r.status.value, _flags(r), str(r.support), _clip(r.text, 90)) for r in shown]
    click.echo(_table(rows) if shown else "no rules")
    if len(shown) < len(found):
        click.echo(f"... {len(found) - len(shown)} more")


@rules.command("get")
@click.argument("rule_id")
@_json_option
@pass_state
def rules_get(state: CliState, rule_id: str, as_json: bool) -> None:
    """Show the rule RULE_ID with its evidence and the logs it came from."""
    with state.open_store() as store:
        found = store.get_rules([rule_id], state.scope())
        if not found:
            raise NotFound(f"no rule {rule_id!r}{_in_namespace(state)}")
        sources = store.rule_sources(rule_id)
    _echo_rule(found[0], as_json, sources)


@rules.command("add")
@click.option("--when", "when", required=True, help="The situation the rule applies to.")
@click.option("--do", "do", required=True, help="The instruction.")
@click.option("--avoid", is_flag=True, help="The instruction says what to avoid (polarity 'avoid').")
@click.option("--aspect", default=None, help="What the rule is about, e.g. length:short (optional).")
@click.option("--rationale", default="", help="Why (kept with the rule).")
@click.option("--pin/--no-pin", default=True, show_default=True, help="Mark it pinned as well.")
@_by_option
@_json_option
@pass_state
def rules_add(
    state: CliState,
    when: str,
    do: str,
    avoid: bool,
    aspect: str | None,
    rationale: str,
    pin: bool,
    by: str | None,
    as_json: bool,
) -> None:
    """Add a rule by hand: active at once, never retired or rewritten by a build."""
    from uno.memory import RuleExistsError

    with _open_memory(state, create=True) as memory:
        try:
            rule = memory.add_rule(
                when, do, polarity="avoid" if avoid else "do", aspect=aspect, rationale=rationale, pinned=pin,
                by=_actor(by),
            )  # fmt: skip
        except RuleExistsError as error:
            raise BadInput(str(error)) from None
        except ValueError as error:
            raise BadInput(str(error)) from None
    _echo_rule(rule, as_json)


@rules.command("edit")
@click.argument("rule_id")
@click.option("--when", "when", default=None, help="New situation.")
@click.option("--do", "do", default=None, help="New instruction.")
@click.option("--polarity", type=click.Choice(["do", "avoid"]), default=None, help="New polarity.")
@click.option("--aspect", default=None, help='New aspect ("" clears it).')
@click.option("--rationale", default=None, help="New rationale.")
@_by_option
@_json_option
@pass_state
def rules_edit(
    state: CliState,
    rule_id: str,
    when: str | None,
    do: str | None,
    polarity: str | None,
    aspect: str | None,
    rationale: str | None,
    by: str | None,
    as_json: bool,
) -> None:
    """Change a rule's text or fields; builds no longer rewrite them."""
    with _open_memory(state) as memory:
        rule = _on_rule(
            state,
            lambda: memory.edit_rule(
                rule_id, when=when, do=do, polarity=polarity, aspect=aspect, rationale=rationale, by=_actor(by)
            ),
        )
    _echo_rule(rule, as_json)


@rules.command("delete")
@click.argument("rule_id")
@click.option("--reason", default="", help="Why (kept in the history entry of the deletion).")
@_by_option
@pass_state
def rules_delete(state: CliState, rule_id: str, reason: str, by: str | None) -> None:
    """Delete a rule for good, with its provenance and history (one entry records the deletion)."""
    with _open_memory(state) as memory:
        _on_rule(state, lambda: memory.delete_rule(rule_id, reason=reason, by=_actor(by)))
    click.echo(f"deleted {rule_id}")


@rules.command("retire")
@click.argument("rule_id")
@click.option("--reason", default="", help="Why (kept with the rule).")
@_by_option
@_json_option
@pass_state
def rules_retire(state: CliState, rule_id: str, reason: str, by: str | None, as_json: bool) -> None:
    """Retire a rule: no longer injected; builds keep it retired until it is restored."""
    with _open_memory(state) as memory:
        rule = _on_rule(state, lambda: memory.retire_rule(rule_id, reason=reason, by=_actor(by)))
    _echo_rule(rule, as_json)


@rules.command("restore")
@click.argument("rule_id")
@_by_option
@_json_option
@pass_state
def rules_restore(state: CliState, rule_id: str, by: str | None, as_json: bool) -> None:
    """Undo a retirement: a manual or pinned rule is active again; a learnt one goes back to the gate."""
    with _open_memory(state) as memory:
        rule = _on_rule(state, lambda: memory.restore_rule(rule_id, by=_actor(by)))
    _echo_rule(rule, as_json)


@rules.command("pin")
@click.argument("rule_id")
@_by_option
@_json_option
@pass_state
def rules_pin(state: CliState, rule_id: str, by: str | None, as_json: bool) -> None:
    """Hold a rule active: builds no longer change its status or text."""
    with _open_memory(state) as memory:
        rule = _on_rule(state, lambda: memory.pin_rule(rule_id, by=_actor(by)))
    _echo_rule(rule, as_json)


@rules.command("unpin")
@click.argument("rule_id")
@_by_option
@_json_option
@pass_state
def rules_unpin(state: CliState, rule_id: str, by: str | None, as_json: bool) -> None:
    """Release a pin: a learnt rule goes back to the gate."""
    with _open_memory(state) as memory:
        rule = _on_rule(state, lambda: memory.unpin_rule(rule_id, by=_actor(by)))
    _echo_rule(rule, as_json)


@rules.command("history")
@click.argument("rule_id")
@_json_option
@pass_state
def rules_history(state: CliState, rule_id: str, as_json: bool) -> None:
    """Every recorded change of a rule, oldest first: when, what, who, and the fields before and after."""
    with state.open_store() as store:
        changes = store.rule_history(rule_id, state.scope())
        if not changes and not store.get_rules([rule_id], state.scope()):
            raise NotFound(f"no rule {rule_id!r}{_in_namespace(state)}")
    if as_json:
        for change in changes:
            click.echo(change.model_dump_json())
        return
    for change in changes:
        fields = ", ".join(
            f"{name}: {_clip(json.dumps(change.before.get(name)), 40)} -> {_clip(json.dumps(value), 60)}"
            for name, value in change.after.items()
        )
        note = f" ({change.note})" if change.note else ""
        click.echo(f"{change.at.isoformat(timespec='seconds')}  {change.action.value:<9} by {change.actor}{note}")
        if fields:
            click.echo(f"    {fields}")


@main.command(epilog='\b\nExamples:\n  uno search "keep answers short"\n  uno search -k 3 --user-id u42 "French"')
@click.argument("query")
@click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True, help="How many rules.")
@click.option("--user-id", default=None, help="As seen by this user (others' personal rules are hidden).")
@_json_option
@pass_state
def search(state: CliState, query: str, k: int, user_id: str | None, as_json: bool) -> None:
    """The active rules whose instruction is closest to QUERY."""
    _nonempty_query(query, "search")
    with _open_memory(state) as memory:
        hits = memory.search(query, k=k, user_id=user_id)
    if as_json:
        for hit in hits:
            click.echo(hit.model_dump_json())
        return
    rows = [("SCORE", "ID", "RULE")] + [(f"{h.score:.3f}", h.rule.id, _clip(h.rule.text, 100)) for h in hits]
    click.echo(_table(rows) if hits else "no active rules yet: `uno build` learns them")


@main.command(epilog="\b\nExamples:\n  uno forget --user-id u42\n  uno forget --log-id log-3f2a9c0d1e2b4a5f")
@click.option("--user-id", default=None, help="Forget every log of this user.")
@click.option("--log-id", "log_ids", multiple=True, help="Forget this log (repeatable).")
@_json_option
@pass_state
def forget(state: CliState, user_id: str | None, log_ids: tuple[str, ...], as_json: bool) -> None:
    """Delete logs (a user's, or by id) and everything learnt only from them; re-score what remains."""
    if user_id is None and not log_ids:
        raise BadInput("give --user-id USER or --log-id ID (there is deliberately no 'forget everything')")
    with _open_memory(state) as memory:
        report = memory.forget(user_id=user_id, log_ids=list(log_ids) or None)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    click.echo(
        f"forgot {report.logs_deleted} log(s): {report.rules_deleted} rule(s) deleted, "
        f"{report.rules_rescored} re-scored, {report.adapters_staled} adapter(s) marked stale"
    )


FEEDBACK_EPILOG = """\b
Examples:
  uno feedback log-3f2a9c0d1e2b4a5f --followup "too long, keep it short"
  uno feedback log-3f2a9c0d1e2b4a5f --rating 2
  uno feedback log-3f2a9c0d1e2b4a5f --reaction dislike --turn 3
  uno feedback log-3f2a9c0d1e2b4a5f --edit "The corrected answer."

\b
The next `uno build` learns from it."""


@main.command(epilog=FEEDBACK_EPILOG)
@click.argument("log_id")
@click.option("--followup", default=None, help="A message the user sent after the answer.")
@click.option("--edit", "edit_text", default=None, help="The user's corrected version of the answer.")
@click.option(
    "--reaction", type=click.Choice(["like", "love", "dislike", "copy", "none"]), default=None, help="A reaction."
)
@click.option("--rating", type=float, default=None, help="A rating on --scale (default 1 to 5).")
@click.option("--scale", type=(float, float), default=(1.0, 5.0), show_default=True, help="MIN MAX of --rating.")
@click.option("--turn", type=click.IntRange(min=0), default=None, help="Index of the assistant message it is about.")
@pass_state
def feedback(
    state: CliState,
    log_id: str,
    followup: str | None,
    edit_text: str | None,
    reaction: str | None,
    rating: float | None,
    scale: tuple[float, float],
    turn: int | None,
) -> None:
    """Attach one feedback event to the stored log LOG_ID."""
    from pydantic import ValidationError

    given = {"followup": followup, "edit": edit_text, "reaction": reaction, "rating": rating}
    chosen = [kind for kind, value in given.items() if value is not None]
    if len(chosen) != 1:
        raise BadInput("give exactly one of --followup, --edit, --reaction, --rating")
    kind = chosen[0]
    event: dict[str, Any] = {"kind": kind, "turn": turn}
    if kind in ("followup", "edit"):
        event["text"] = given[kind]
    else:
        event["value"] = given[kind]
    if kind == "rating":
        event["scale_min"], event["scale_max"] = scale
    with _open_memory(state) as memory:
        try:
            updated = memory.feedback(log_id, event)
        except KeyError:
            raise NotFound(f"no log {log_id!r}{_in_namespace(state)}") from None
        except ValidationError as error:
            reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
            raise BadInput(f"the feedback does not fit log {log_id}: {reasons}") from None
    click.echo(f"{log_id}: {len(updated.feedback_events())} feedback event(s); `uno build` learns from them")


@main.group(epilog="\b\nExamples:\n  uno logs list --user-id u42\n  uno logs get log-3f2a9c0d1e2b4a5f --json")
def logs() -> None:
    """List stored logs, or show one."""


@logs.command("list")
@click.option("--user-id", default=None, help="Only this user's logs.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="How many.")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True, help="Skip this many first.")
@_json_option
@pass_state
def logs_list(state: CliState, user_id: str | None, limit: int, offset: int, as_json: bool) -> None:
    """Logs, oldest first: id, user, time and query."""
    from itertools import islice

    from rule_store.protocol import Scope

    scope = Scope(namespace=state.namespace, user_id=user_id)
    with state.open_store() as store:
        page = list(islice(store.iter_logs(scope), offset, offset + limit))
        total = store.count_logs(scope)
    if as_json:
        for log in page:
            click.echo(log.model_dump_json())
        return
    rows = [("ID", "USER", "AT", "QUERY")]
    rows += [(g.id, g.user_id or "-", g.timestamp.isoformat(timespec="seconds"), _clip(g.query, 80)) for g in page]
    click.echo(_table(rows) if page else "no logs")
    if offset + len(page) < total:
        click.echo(f"... {total - offset - len(page)} more (--offset {offset + len(page)})")


@logs.command("get")
@click.argument("log_id")
@_json_option
@pass_state
def logs_get(state: CliState, log_id: str, as_json: bool) -> None:
    """Show the log LOG_ID: its messages and feedback."""
    with state.open_store() as store:
        found = store.get_logs([log_id], state.scope())
    if not found:
        raise NotFound(f"no log {log_id!r}{_in_namespace(state)}")
    click.echo(found[0].model_dump_json(indent=2) if as_json else _describe_log(found[0]))


@main.command("import", epilog="\b\nExamples:\n  uno export all --out acme.jsonl\n  uno --store copy import acme.jsonl")
@click.argument("file", type=click.Path(path_type=Path))
@_json_option
@pass_state
def import_(state: CliState, file: Path, as_json: bool) -> None:
    """Read back what `uno export all` wrote (into --namespace), then re-cluster and re-index. All or nothing."""
    from uno.memory import InvalidImport

    if not file.is_file():
        raise BadInput(_not_a_file(file) + "; nothing was imported")
    lines, numbers, problems = _read_json_lines(file)
    if problems:
        raise BadInput(str(InvalidImport(problems)))
    with _open_memory(state, create=True) as memory:
        try:
            report = memory.import_records(lines, by=_actor(None))
        except InvalidImport as error:
            # Name the lines of the file (blank lines were skipped before the records were numbered).
            raise BadInput(str(InvalidImport([(numbers[n - 1], why) for n, why in error.problems]))) from None
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    click.echo(
        f"imported {report.logs} log(s) ({report.duplicate_logs} already there), {report.rules} rule(s), "
        f"{report.verdicts} verdict(s), {report.rule_changes} history entries into {report.namespace}"
    )


@main.command(epilog="\b\nExamples:\n  uno backup backups/uno-2024-05-17.sqlite")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def backup(state: CliState, file: Path) -> None:
    """Copy the whole store (every namespace) to FILE with SQLite's online backup (a server may keep running)."""
    with state.open_store() as store:
        if not hasattr(store, "backup"):
            raise BadInput(f"{type(store).__name__} has no online backup: copy its database with its own tools")
        written = store.backup(file)
    click.echo(f"backed up {state.paths.database} to {written}")


@main.command(epilog="\b\nExamples:\n  uno restore backups/uno-2024-05-17.sqlite --yes")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask: replace the store's whole content.")
@pass_state
def restore(state: CliState, file: Path, yes: bool) -> None:
    """Replace the whole store (every namespace) with the backup FILE; the indexes are rebuilt on next use."""
    if state.paths.url is not None:
        raise BadInput(f"uno restore replaces a SQLite store; restore {state.paths.display} with PostgreSQL's tools")
    if not yes:
        click.confirm(f"replace everything in {state.paths.database} with {file}?", abort=True)
    if not file.is_file():
        raise BadInput(_not_a_file(file) + "; nothing was restored")
    try:
        memory = _open_memory(state, create=True)
    except sqlite3.DatabaseError as error:
        if "locked" in str(error).lower():
            raise
        aside = _move_aside(state.paths.database)
        click.echo(f"the store could not be opened ({error}): moved it aside to {aside}", err=True)
        memory = _open_memory(state, create=True)
    with memory:
        try:
            memory.restore(file)
        except ValueError as error:
            raise BadInput(str(error)) from None
    click.echo(f"restored {state.paths.database} from {file}")


def _open_memory(state: CliState, *, create: bool = False, llm: LLM | None = None) -> UnoMemory:
    from rule_store.factory import open_store
    from uno.memory import UnoMemory

    if not create and not state.paths.exists():
        raise BadInput(f"no uno store at {state.paths.root} (run `uno ingest FILE` to create one, or pass --store DIR)")
    store = open_store(state.paths.ensure().spec, busy_timeout_s=_busy_timeout())
    return UnoMemory(state.paths.ensure().root, namespace=state.namespace or DEFAULT_NAMESPACE, llm=llm, store=store)


def _busy_timeout() -> float:
    """How long a command waits for a store another process is writing ($UNO_BUSY_TIMEOUT_S, default 30 s)."""
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "30")
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"${BUSY_TIMEOUT_ENV} must be a number of seconds, got {raw!r}") from None
    if not 0 <= value <= 3600:
        raise BadInput(f"${BUSY_TIMEOUT_ENV} must be between 0 and 3600 seconds, got {raw!r}")
    return value


def _move_aside(database: Path) -> Path:
    """Keep a damaged database (and its WAL files) next to the store instead of deleting it."""
    aside = database.with_name(f"{database.name}.damaged-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(str(database) + suffix)
        if part.exists():
            os.replace(part, Path(str(aside) + suffix))
    return aside


def _on_rule(state: CliState, change: Any) -> Any:
    """Run a change of one rule: a missing rule exits 1, a bad value 2, each with one line."""
    try:
        return change()
    except KeyError:
        raise NotFound(f"no such rule{_in_namespace(state)} (`uno rules list` shows them)") from None
    except ValueError as error:
        raise BadInput(str(error)) from None


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _llm(model: str | None, api_base: str | None) -> LLM | None:
    if not model:
        if api_base:
            raise BadInput("--llm-base needs --llm MODEL (or $UNO_LLM_MODEL)")
        return None
    try:
        from uno.llm import LiteLLM

        return LiteLLM(model, api_base=api_base)
    except ImportError as error:
        raise BadInput(
            f"--llm needs the [llm] extra ({error.name or error} is missing): pip install 'uno[llm]'"
        ) from None


def _nonempty_query(query: str, command: str) -> None:
    if not query.strip():
        raise BadInput(f'the query is empty: give the text of a request, e.g. uno {command} "Can I cancel my plan?"')


def _read_json_lines(path: Path) -> tuple[list[dict[str, Any]], list[int], list[tuple[int, str]]]:
    """The JSON objects of a JSON-lines file, the line number of each, and the lines that are not objects."""
    lines: list[dict[str, Any]] = []
    numbers: list[int] = []
    problems: list[tuple[int, str]] = []
    with path.open(encoding="utf-8") as stream:
        for number, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                problems.append((number, f"not JSON ({error.msg})"))
                continue
            if not isinstance(value, dict):
                problems.append((number, "not a JSON object"))
                continue
            lines.append(value)
            numbers.append(number)
    return lines, numbers, problems


def _flags(rule: Rule) -> str:
    flags = [name for name in ("manual", "pinned", "edited") if getattr(rule, name)]
    return ",".join(flags) or "-"


def _echo_rule(rule: Rule, as_json: bool, sources: Sequence[str] | None = None) -> None:
    if as_json:
        body = rule.model_dump(mode="json")
        body["source_log_ids"] = list(sources) if sources is not None else rule.source_log_ids
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    click.echo(_describe_rule(rule, sources if sources is not None else rule.source_log_ids))


def _require_extra(extra: str, feature: str, *modules: str) -> None:
    """Exit with the ``pip install`` line that fixes it when an optional dependency of ``feature`` is missing."""
    try:
        for module in modules:
            require(module, extra=extra, feature=feature)
    except MissingExtraError as error:
        raise BadInput(str(error)) from None


# ------------------------------------------------------------------------------------------ mcp

MCP_EPILOG = """\b
Examples:
  uno mcp                                           stdio, for an agent that launches it
  uno --store ./.uno --namespace acme mcp --transport http --port 8765
                                                    streamable HTTP on http://127.0.0.1:8765/mcp

\b
Tools, all inside --namespace, with the REST API's input limits:
  augment, search, build, forget, stats
  add_log, add_exchange, feedback, list_logs, get_log
  list_rules, get_rule, add_rule, edit_rule, delete_rule, retire_rule, restore_rule,
  pin_rule, unpin_rule, rule_history
  export (a page at a time), import
No backup/restore tool: a backup holds every namespace (run uno backup as the store's operator).
The HTTP transport has no authentication: keep it on a loopback address, or put it behind a
proxy that checks who calls."""


@main.command(epilog=MCP_EPILOG)
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface (http transport).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="Port (http transport).")
@pass_state
def mcp(state: CliState, transport: str, host: str, port: int) -> None:
    """Serve the memory's tools to agents over MCP (Model Context Protocol)."""
    _require_extra("mcp", "uno mcp", "mcp")
    from uno.integrations.mcp import run_mcp_server
    from uno.memory import UnoMemory

    if transport == "http" and host not in _LOOPBACK:
        click.echo(
            f"warning: MCP over HTTP on {host} has no authentication: anyone who can reach it can use it", err=True
        )
    where = f"http://{host}:{port}/mcp" if transport == "http" else "stdio"
    click.echo(f"uno: MCP server for {state.paths.display} on {where}", err=True)
    with UnoMemory(state.paths.ensure().location, namespace=state.namespace or DEFAULT_NAMESPACE) as memory:
        run_mcp_server(memory, transport="http" if transport == "http" else "stdio", host=host, port=port)


# ------------------------------------------------------------------------------------------ rendering


def _progress(quiet: bool) -> bool:
    """Whether a long command draws its progress bars (on a terminal, unless --quiet); library bars never."""
    from uno.progress import progress_wanted, silence_library_bars

    silence_library_bars()
    return progress_wanted(quiet=quiet)


def _in_namespace(state: CliState) -> str:
    return f" in namespace {state.namespace!r}" if state.namespace else ""


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _table(rows: Sequence[Sequence[str]], align_right: set[int] | None = None) -> str:
    """Rows as aligned columns, two spaces apart, measured in terminal cells by rich: a CJK character or an emoji
    takes two cells, which padding by ``len`` got wrong. Cells are plain text (no rich markup or ``:emoji:`` codes:
    they quote users); nothing is wrapped or cut, and no line ends in spaces."""
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    right = align_right or set()
    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False, padding=(0, 1))
    for i in range(len(rows[0])):
        table.add_column(justify="right" if i in right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out = io.StringIO()
    Console(file=out, width=1_000_000, color_system=None, emoji=False, markup=False, highlight=False).print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def _describe_log(log: LogRecord) -> str:
    lines = [
        f"log {log.id}",
        f"  namespace: {log.namespace}   user: {log.user_id or '-'}   at: {log.timestamp.isoformat()}",
        "  messages:",
    ]
    lines += [f"    [{i}] {m.role}: {_clip(m.content, 200)}" for i, m in enumerate(log.messages)]
    events = log.feedback_events()
    lines.append("  feedback:" if events else "  feedback: none")
    for event in events:
        lines.append(f"    on turn {log.target_turn(event)}: {_describe_feedback(event.model_dump(mode='json'))}")
    if log.metadata:
        lines.append(f"  metadata: {_clip(json.dumps(log.metadata, ensure_ascii=False), 200)}")
    return "\n".join(lines)


def _describe_feedback(event: dict[str, Any]) -> str:
    kind = event["kind"]
    if kind in ("followup", "edit"):
        detail = repr(_clip(event["text"], 160))
    elif kind == "reaction":
        detail = event["value"] + (" (ended the conversation)" if event["terminated"] else "")
    else:
        detail = f"{event['value']:g} on [{event['scale_min']:g}, {event['scale_max']:g}]"
    return f"{kind} {detail}" + (" (implicit)" if event["implicit"] else "")


def _describe_rule(rule: Rule, sources: Sequence[str]) -> str:
    novelty = "-" if rule.novelty is None else f"{rule.novelty:.2f}"
    lines = [
        f"rule {rule.id}",
        f"  {rule.text}",
        f"  polarity: {rule.polarity.value}   aspect: {rule.aspect or '-'}   status: {rule.status.value}"
        + (f" ({rule.status_reason})" if rule.status_reason else ""),
        f"  support: {rule.support}   confidence: {rule.confidence:.2f}   novelty: {novelty}"
        f"   cluster: {rule.cluster_id or '-'}",
    ]
    if rule.superseded_by:
        lines.append(f"  superseded by: {rule.superseded_by}")
    if rule.manual or rule.pinned or rule.edited:
        lines.append(f"  by hand: {_flags(rule)}")
    if rule.rationale:
        lines.append(f"  rationale: {_clip(rule.rationale, 200)}")
    lines.append(f"  evidence ({len(rule.evidence)}):")
    for item in rule.evidence:
        quote = f": {_clip(item.quote, 120)!r}" if item.quote else ""
        lines.append(f"    {item.kind.value} in {item.log_id} (weight {item.weight:.2f}){quote}")
    lines.append(f"  derived from {len(sources)} log(s): {', '.join(sources) if sources else '-'}")
    return "\n".join(lines)


def _describe_quarantine(record: QuarantineRecord) -> str:
    where = f"{record.source}:{record.line}" if record.line is not None else record.source
    return f"{where}  {record.reason}"
