"""``uno``: the command line. Import logs, look at what is stored, export it.

Everything beyond click and the path helpers is imported inside the commands, so ``uno --help`` starts fast and
never loads torch, sentence-transformers or FAISS.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from rule_store.records import DEFAULT_NAMESPACE
from uno.paths import STORE_ENV, StorePaths

if TYPE_CHECKING:
    from pydantic import BaseModel

    from rule_store.protocol import RuleStore, Scope
    from rule_store.records import LogRecord, QuarantineRecord, Rule
    from uno.ingest import IngestReport

# Exit codes: 1 for "what you asked for is not there", 2 for bad input (click's own usage errors are 2 too).
EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2
# How many quarantined lines ``uno ingest`` prints per file before pointing at ``uno inspect quarantine``.
DEFAULT_SHOWN_ERRORS = 10
FORMATS = ("plain", "openai", "memorybench")
EXPORT_KINDS = ("logs", "rules", "quarantine", "pairs")
RULE_STATUSES = ("candidate", "active", "superseded", "retired")
QUIET_HELP = "No progress bars (they are drawn only when stderr is a terminal anyway)."

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
  uno train --base-model smollm2 --judge openai/gpt-4o-mini   bake mature clusters into LoRA adapters

\b
The store is a directory (SQLite database + index files): --store DIR, else ${STORE_ENV}, else ./.uno.
Namespaces keep tenants apart: --namespace NAME scopes every command to one of them."""


class BadInput(click.ClickException):
    """An input the command cannot use (missing file, unknown store): exit code 2."""

    exit_code = EXIT_BAD_INPUT


class NotFound(click.ClickException):
    """The record asked for does not exist in scope: exit code 1."""

    exit_code = EXIT_NOT_FOUND


@dataclass(frozen=True)
class CliState:
    """The global options, shared by every command."""

    store_dir: Path | None
    namespace: str | None

    @property
    def paths(self) -> StorePaths:
        return StorePaths.resolve(self.store_dir)

    def scope(self) -> Scope:
        from rule_store.protocol import Scope

        return Scope(namespace=self.namespace)

    @contextmanager
    def open_store(self, *, create: bool = False) -> Iterator[RuleStore]:
        """The SQLite store; reading commands refuse to create one where there is none (a likely typo)."""
        paths = self.paths
        if not create and not paths.database.exists():
            raise BadInput(f"no uno store at {paths.root} (run `uno ingest FILE` to create one, or pass --store DIR)")
        from rule_store.sqlite import SQLiteRuleStore

        store = SQLiteRuleStore(paths.ensure().database)
        try:
            yield store
        finally:
            store.close()


pass_state = click.make_pass_decorator(CliState)


@click.group(epilog=MAIN_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Store directory. [default: ${STORE_ENV}, else ./.uno]",
)
@click.option("--namespace", default=None, help="Work inside this namespace (tenant) only.")
@click.version_option(package_name="uno", prog_name="uno")
@click.pass_context
def main(ctx: click.Context, store_dir: Path | None, namespace: str | None) -> None:
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
Files: .jsonl (streamed), .json (an array, or {"data": [...]}), either one .gz.

\b
Lines that cannot be imported are quarantined with their line number and the reason; the
rest is imported. Running the same import again adds nothing. Exit code: 0 when every file
was read (even with quarantined lines), 2 when a file cannot be read.

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
    click.echo(f"{state.paths.root} ({title})")
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
    """Write logs, rules, quarantine or preference pairs as JSON lines."""
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


def _write_jsonl(records: Iterable[BaseModel], stream: TextIO) -> int:
    count = 0
    for record in records:
        stream.write(record.model_dump_json() + "\n")
        count += 1
    return count


def _write_jsonl_file(records: Iterable[BaseModel], out: Path) -> int:
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
@main.command(epilog="\b\nExamples:\n  uno build\n  uno build --full\n  uno --namespace acme build --json")
@click.option("--full", is_flag=True, help="Re-distil and re-cluster everything, not just what is new.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
@pass_state
def build(state: CliState, full: bool, as_json: bool, quiet: bool) -> None:
    """Distil, embed, cluster, gate and index the logs added since the last build."""
    if not state.paths.database.exists():
        raise BadInput(f"no uno store at {state.paths.root} (run `uno ingest FILE` first)")
    from uno.memory import UnoMemory

    progress = _progress(quiet)
    with UnoMemory(state.paths.root, namespace=state.namespace or DEFAULT_NAMESPACE, progress=progress) as memory:
        report = memory.build(full=full)
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
    if not state.paths.database.exists():
        raise BadInput(f"no uno store at {state.paths.root} (run `uno ingest FILE` and `uno build` first)")
    from uno.memory import UnoMemory

    with UnoMemory(state.paths.root, namespace=state.namespace or DEFAULT_NAMESPACE) as memory:
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

    run_demo(state.paths.root if keep or state.store_dir else None, echo=click.echo)


# ------------------------------------------------------------------------------------------ train

TRAIN_EPILOG = """\b
Examples:
  uno train --base-model smollm2 --judge openai/gpt-4o-mini
  uno train --base-model ./qwen3-8b --judge openai/gpt-4o-mini --cluster clu-0ee4ebacbb6de958 --epochs 8
  uno train --base-model smollm2 --judge-local smollm2 --epochs 2 --lora-r 8      (fully offline, a toy judge)
  uno adapters                                                   the registry: every version, status and reason

\b
Needs the [train] extra (pip install 'uno[train]'). A cluster is baked when it is mature (enough
preference pairs and hindsight triples, low gap); the adapter is kept only when its held-out win
rate against the base model, judged by --judge, reaches the threshold (0.53, BLEU drift guard)."""


@main.command(epilog=TRAIN_EPILOG)
@click.option("--base-model", required=True, help="Transformers checkpoint dir, GGUF file, or 'smollm2' (bundled).")
@click.option("--judge", "judge_model", default=None, metavar="MODEL", help="litellm model judging held-out answers.")
@click.option("--judge-base", default=None, metavar="URL", help="API base URL of the judge model.")
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
    if not state.paths.database.exists():
        raise BadInput(f"no uno store at {state.paths.root} (run `uno ingest FILE` and `uno build` first)")
    if (judge_model is None) == (judge_local is None):
        raise BadInput("give exactly one of --judge MODEL and --judge-local PATH")
    try:
        import peft  # noqa: F401
    except ImportError:
        raise BadInput("uno train needs the [train] extra: pip install 'uno[train]'") from None
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
    with UnoMemory(state.paths.root, namespace=state.namespace or DEFAULT_NAMESPACE, progress=progress) as memory:
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
@click.option("--upstream-base", default=None, metavar="URL", help="API base URL of the upstream model.")
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
@click.option("--no-auth", is_flag=True, help="Serve without keys, all requests in --namespace (local use only).")
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
    no_auth: bool,
    max_body_bytes: int,
    log_level: str,
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
    with UnoMemory(state.paths.root, namespace=namespace) as memory:
        app = create_app(
            memory,
            api_keys=keys,
            upstream=model,
            anonymous_namespace=namespace if no_auth else None,
            max_body_bytes=max_body_bytes,
            warm_up=True,
        )
        proxy = f", proxy to {upstream} at /v1/chat/completions" if upstream else ""
        click.echo(f"uno: serving {state.paths.root} on http://{host}:{port}{proxy}", err=True)
        uvicorn.run(app, host=host, port=port, log_level=log_level)


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
