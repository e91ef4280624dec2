"""The REST API: logs and feedback in; rules out (list, inspect with provenance) and managed by hand (add, edit,
delete, retire, restore, pin, unpin, history); augment, search, build, forget, export/import, stats. Every route
works inside the tenant of the request's API key and cannot name another; every change to a rule is recorded in its
history under the key's fingerprint (never the key).

Routes are plain functions: FastAPI runs them on its thread pool, where the blocking SQLite and FAISS calls
belong. ``UnoMemory`` serialises writes itself and serves reads from an immutable snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError

from rule_store.protocol import LeaseHeld, Scope
from rule_store.records import AdapterStatus, Cluster, Feedback, LogRecord, Message, Rule, RuleStatus
from rule_store.sqlite import NamespaceConflictError
from uno.gap import MANUAL_PREFIX
from uno.ingest import FormatDetectionError, InvalidRecord, check_log, parse_record
from uno.ingest.errors import render_loc
from uno.ingest.limits import check_messages, check_metadata, check_raw_record
from uno.inject import Augmentation
from uno.ledger import Ledger, llm_db_path
from uno.memory import BuildReport, ForgetReport, ImportReport, InvalidImport, RuleExistsError, UnoMemory
from uno.server.auth import Caller, Identity, State, Tenant, bearer
from uno.server.errors import (
    COMMON_RESPONSES,
    NOT_FOUND,
    ApiError,
    ErrorDetail,
    ErrorResponse,
    summarize,
    validation_details,
)
from uno.server.schemas import (
    MAX_ID_CHARS,
    MAX_REASON_CHARS,
    AdapterList,
    AddRuleRequest,
    AugmentRequest,
    BuildRequest,
    ClusterList,
    ClusterSummary,
    EditRuleRequest,
    ExchangeRequest,
    ExchangeResponse,
    ExportDocument,
    ExportLine,
    FeedbackResponse,
    ForgetRequest,
    ImportRequest,
    IngestRequest,
    IngestResponse,
    LedgerPeriod,
    LedgerReport,
    LogList,
    QuarantineList,
    RetireRequest,
    RuleDetail,
    RuleHistory,
    RuleList,
    SearchRequest,
    SearchResponse,
    SearchResult,
    SourceLog,
)


def reject_unknown_query_params(request: Request) -> None:
    """A query parameter the route does not take is an error (a typo like ``?stauts=`` must not be ignored)."""
    route = request.scope.get("route")
    known = _query_param_names(route.dependant) if isinstance(route, APIRoute) else set()
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        details = [ErrorDetail(loc=f"query.{name}", message="unknown query parameter") for name in unknown]
        raise ApiError(422, summarize(details), details=details)


def _query_param_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_param_names(sub)
    return names


router = APIRouter(prefix="/v1", responses=COMMON_RESPONSES, dependencies=[Depends(reject_unknown_query_params)])

LogId = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS, description="A log id.")]
RuleId = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS, description="A rule id.")]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "A log id in the request already holds a different log."}
}
RULE_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "A rule with this instruction exists: edit, pin or restore it."}
}


def change_author(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """Who a rule's history says made a change: the API key's fingerprint, never the key."""
    if credentials is None:
        return "api:anonymous"
    return "api:" + hashlib.sha256(credentials.credentials.encode("utf-8")).hexdigest()[:12]


Author = Annotated[str, Depends(change_author)]


# --- logs and feedback in


@router.post("/logs", response_model=IngestResponse, responses=CONFLICT, tags=["logs"])
def ingest_logs(body: IngestRequest, namespace: Tenant, state: State, caller: Identity) -> IngestResponse:
    """Store log records (no model call). All or nothing: if any record is invalid or over the server's input
    limits, none is stored and the answer names each bad record and why. Records already stored are reported as
    duplicates; a record reusing one of the tenant's log ids for a different log is a 409. Log ids are per
    tenant: another tenant's ids are neither visible nor in the way. Each log is stamped with the identity of the
    request's API key (see docs/threat-model.md)."""
    records: list[LogRecord] = []
    problems: list[ErrorDetail] = []
    limits = state.memory.limits
    for index, item in enumerate(body.logs):
        try:
            check_raw_record(item, limits)
            parsed = parse_record(item, body.format, namespace=namespace, user_id=body.user_id)
            records.append(check_log(parsed, limits))
        except (InvalidRecord, FormatDetectionError) as error:
            problems.append(ErrorDetail(loc=f"body.logs[{index}]", message=str(error)))
    if problems:
        raise ApiError(
            422, summarize(problems, f"{len(problems)} of {len(body.logs)} logs are invalid"), details=problems
        )
    records = [_stamped(record, caller) for record in records]
    _refuse_id_conflicts(state.memory, namespace, records)
    outcome = state.memory.add_many(records, namespace=namespace)
    if outcome.rejected:  # a conflicting log written by another request since the check above
        details = [ErrorDetail(loc=f"body.logs[{r.position}]", message=r.reason) for r in outcome.rejected]
        raise ApiError(409, summarize(details, "some logs were not stored"), details=details)
    return IngestResponse(ids=outcome.ids, inserted=outcome.inserted, duplicates=outcome.duplicates)


@router.post("/exchanges", response_model=ExchangeResponse, tags=["logs"])
def log_exchange(body: ExchangeRequest, namespace: Tenant, state: State, caller: Identity) -> ExchangeResponse:
    """Record a conversation your app just had (its messages and the model's answer). When the messages contain
    an answer logged earlier, the user's new turn is recorded as a follow-up on it; uno's memory block is never
    stored."""
    if not any(m.role == "user" for m in body.messages):
        raise ApiError(
            422, "the messages hold no user turn", details=[ErrorDetail(loc="body.messages", message="no user turn")]
        )
    # Checked before anything reads the text (the follow-up lookup hashes it): an answer the handler turns into 422.
    check_messages([*body.messages, Message(role="assistant", content=body.response)], state.memory.limits)
    check_metadata(body.metadata, state.memory.limits)
    exchange = state.recorder.begin(
        body.messages, namespace=namespace, user_id=body.user_id, verified_id=caller.verified_id(body.user_id)
    )
    log_id = state.recorder.finish(exchange, body.response, metadata=body.metadata, source="rest")
    return ExchangeResponse(
        log_id=log_id, previous_log_id=exchange.previous_log_id, followup_recorded=exchange.followup is not None
    )


@router.get("/logs", response_model=LogList, tags=["logs"])
def list_logs(
    namespace: Tenant,
    state: State,
    user_id: Annotated[str | None, Query(min_length=1, max_length=MAX_ID_CHARS)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> LogList:
    """The tenant's logs (``user_id``: that user's), oldest first, a page at a time."""
    memory = state.memory
    return LogList(
        total=memory.count_logs(namespace=namespace, user_id=user_id),
        logs=memory.logs(namespace=namespace, user_id=user_id, limit=limit, offset=offset),
    )


@router.get("/logs/{log_id}", response_model=LogRecord, responses=NOT_FOUND, tags=["logs"])
def get_log(log_id: LogId, namespace: Tenant, state: State) -> LogRecord:
    """One stored log: its messages, feedback and metadata."""
    found = state.memory.store.get_logs([log_id], Scope(namespace=namespace))
    if not found:
        raise ApiError(404, f"no log {log_id!r} in this tenant")
    return found[0]


@router.post("/logs/{log_id}/feedback", response_model=FeedbackResponse, responses=NOT_FOUND, tags=["logs"])
def add_feedback(
    log_id: LogId, event: Annotated[Feedback, Body()], namespace: Tenant, state: State, caller: Identity
) -> FeedbackResponse:
    """Attach a feedback event (follow-up, edit, reaction, rating) to a stored log; the next build learns it.
    ``turn`` names the assistant message it is about (default: the first answer). A log recorded through another
    API key is answered 404: feedback must not borrow the identity another key vouched for."""
    found = state.memory.store.get_logs([log_id], Scope(namespace=namespace))
    if found and not _sent_by(found[0], caller):
        raise ApiError(404, f"no log {log_id!r} in this tenant")
    try:
        updated = state.memory.feedback(log_id, event, namespace=namespace)
    except KeyError:
        raise ApiError(404, f"no log {log_id!r} in this tenant") from None
    except InvalidRecord as error:
        details = [ErrorDetail(loc=render_loc(("body", *p.loc)), message=p.message) for p in error.problems]
        raise ApiError(422, summarize(details, "the feedback is over the input limits"), details=details) from None
    except ValidationError as error:
        details = validation_details(error.errors(include_url=False), ("body",))
        raise ApiError(422, summarize(details, "the feedback does not fit this log"), details=details) from None
    return FeedbackResponse(log_id=updated.id, feedback_events=len(updated.feedback_events()))


# --- learning


@router.post(
    "/build",
    response_model=BuildReport,
    tags=["memory"],
    responses={409: {"model": ErrorResponse, "description": "Another build of this tenant is running (any replica)."}},
)
def build(namespace: Tenant, state: State, body: BuildRequest | None = None) -> BuildReport:
    """Distil, cluster, gate and index what was logged since the last build (``full``: everything).

    One build of a tenant runs at a time across every replica sharing the store: another one is answered 409.
    """
    try:
        return state.memory.build(full=body.full if body else False, namespace=namespace)
    except LeaseHeld as error:
        raise ApiError(409, f"{error}: retry when it is done") from None


# --- rules out


@router.get("/rules", response_model=RuleList, tags=["rules"])
def list_rules(
    namespace: Tenant,
    state: State,
    status: Annotated[RuleStatus | None, Query(description="Only rules with this status.")] = None,
    user_id: Annotated[str | None, Query(min_length=1, max_length=MAX_ID_CHARS)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RuleList:
    """The tenant's rules (``user_id``: those learnt from that user's logs), best supported first."""
    rules = state.memory.rules(namespace=namespace, status=status, user_id=user_id)
    rules.sort(key=lambda r: (-r.support, -r.confidence, r.id))
    return RuleList(total=len(rules), rules=rules[offset : offset + limit])


@router.get("/rules/{rule_id}", response_model=RuleDetail, responses=NOT_FOUND, tags=["rules"])
def get_rule(rule_id: RuleId, namespace: Tenant, state: State) -> RuleDetail:
    """One rule with its provenance: its evidence and the logs it was learnt from."""
    rule = _rule_or_404(state.memory, namespace, rule_id)
    sources = state.memory.store.get_logs(rule.source_log_ids, Scope(namespace=namespace))
    verdicts = {
        v.log_id: v for v in state.memory.store.get_verdicts([s.id for s in sources]) if v.namespace == namespace
    }
    return RuleDetail(
        rule=rule,
        source_log_ids=rule.source_log_ids,
        sources=[
            SourceLog(
                log_id=s.id,
                user_id=s.user_id,
                timestamp=s.timestamp,
                query=s.query,
                verdict=verdicts[s.id].verdict.value if s.id in verdicts else None,
                verdict_reasons=verdicts[s.id].reasons if s.id in verdicts else [],
            )
            for s in sources
        ],
    )


@router.post("/rules", response_model=Rule, responses=RULE_CONFLICT, tags=["rules"])
def add_rule(body: AddRuleRequest, namespace: Tenant, state: State, author: Author) -> Rule:
    """Add a rule by hand: active at once for the whole tenant; builds never retire, supersede or rewrite it."""
    try:
        return state.memory.add_rule(
            body.when,
            body.do,
            polarity=body.polarity,
            aspect=body.aspect,
            rationale=body.rationale,
            pinned=body.pinned,
            by=author,
            namespace=namespace,
        )
    except RuleExistsError as error:
        raise ApiError(409, str(error)) from None


@router.patch("/rules/{rule_id}", response_model=Rule, responses=NOT_FOUND, tags=["rules"])
def edit_rule(rule_id: RuleId, body: EditRuleRequest, namespace: Tenant, state: State, author: Author) -> Rule:
    """Change a rule's text or fields (those given); later builds no longer rewrite them."""
    return _on_rule(
        state.memory,
        namespace,
        rule_id,
        lambda: state.memory.edit_rule(
            rule_id,
            when=body.when,
            do=body.do,
            polarity=body.polarity,
            aspect=body.aspect,
            rationale=body.rationale,
            by=author,
            namespace=namespace,
        ),
    )


@router.delete("/rules/{rule_id}", response_model=Rule, responses=NOT_FOUND, tags=["rules"])
def delete_rule(
    rule_id: RuleId,
    namespace: Tenant,
    state: State,
    author: Author,
    reason: Annotated[str, Query(max_length=MAX_REASON_CHARS, description="Why (kept in the history).")] = "",
) -> Rule:
    """Delete a rule for good, with its provenance and history; it leaves augment and search at once. Answers
    with the deleted rule. One history entry stays: who deleted it, and when."""
    return _on_rule(
        state.memory,
        namespace,
        rule_id,
        lambda: state.memory.delete_rule(rule_id, reason=reason, by=author, namespace=namespace),
    )


@router.post("/rules/{rule_id}/retire", response_model=Rule, responses=NOT_FOUND, tags=["rules"])
def retire_rule(
    rule_id: RuleId, namespace: Tenant, state: State, author: Author, body: RetireRequest | None = None
) -> Rule:
    """Retire a rule by hand: it is no longer injected, and later builds keep it retired."""
    memory = state.memory
    rule = _rule_or_404(memory, namespace, rule_id)
    if rule.status is RuleStatus.RETIRED and rule.status_reason.startswith(MANUAL_PREFIX):
        return rule
    reason = body.reason if body and body.reason else ""
    return _on_rule(
        memory, namespace, rule_id, lambda: memory.retire_rule(rule_id, reason=reason, by=author, namespace=namespace)
    )


@router.post("/rules/{rule_id}/restore", response_model=Rule, responses=NOT_FOUND, tags=["rules"])
def restore_rule(rule_id: RuleId, namespace: Tenant, state: State, author: Author) -> Rule:
    """Undo a retirement: a rule added or pinned by hand is active again; a learnt one goes back to the gate."""
    return _on_rule(
        state.memory, namespace, rule_id, lambda: state.memory.restore_rule(rule_id, by=author, namespace=namespace)
    )


@router.post("/rules/{rule_id}/pin", response_model=Rule, responses=NOT_FOUND, tags=["rules"])
def pin_rule(rule_id: RuleId, namespace: Tenant, state: State, author: Author) -> Rule:
    """Hold a rule active: builds no longer change its status or text."""
    return _on_rule(
        state.memory, namespace, rule_id, lambda: state.memory.pin_rule(rule_id, by=author, namespace=namespace)
    )


@router.post("/rules/{rule_id}/unpin", response_model=Rule, responses=NOT_FOUND, tags=["rules"])
def unpin_rule(rule_id: RuleId, namespace: Tenant, state: State, author: Author) -> Rule:
    """Release a pin: a learnt rule goes back to the gate."""
    return _on_rule(
        state.memory, namespace, rule_id, lambda: state.memory.unpin_rule(rule_id, by=author, namespace=namespace)
    )


@router.get("/rules/{rule_id}/history", response_model=RuleHistory, responses=NOT_FOUND, tags=["rules"])
def rule_history(rule_id: RuleId, namespace: Tenant, state: State) -> RuleHistory:
    """Every recorded change of a rule, oldest first: what changed, who or what changed it (build, gate, an API
    key's fingerprint, a CLI user), when, and the fields before and after. A deleted rule keeps one entry."""
    try:
        changes = state.memory.rule_history(rule_id, namespace=namespace)
    except KeyError:
        raise ApiError(404, f"no rule {rule_id!r} in this tenant") from None
    return RuleHistory(rule_id=rule_id, changes=changes)


# --- what the store holds (read by the dashboard at /ui)

REPRESENTATIVE_QUERIES = 3


@router.get("/clusters", response_model=ClusterList, tags=["store"])
def list_clusters(
    namespace: Tenant,
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ClusterList:
    """The tenant's clusters, largest first: route, gap, maturity, rules and a few of their requests."""
    clusters = state.memory.store.list_clusters(Scope(namespace=namespace))
    clusters.sort(key=lambda c: (-len(c.member_log_ids), c.id))
    page = clusters[offset : offset + limit]
    return ClusterList(total=len(clusters), clusters=[_cluster_summary(state.memory, namespace, c) for c in page])


@router.get("/quarantine", response_model=QuarantineList, tags=["store"])
def list_quarantine(
    namespace: Tenant,
    state: State,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QuarantineList:
    """Input that could not be imported into this tenant, with the line and the reason; newest first."""
    records = state.memory.store.list_quarantine(Scope(namespace=namespace))
    records.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return QuarantineList(total=len(records), records=records[offset : offset + limit])


@router.get("/adapters", response_model=AdapterList, tags=["store"])
def list_adapters(
    namespace: Tenant,
    state: State,
    status: Annotated[AdapterStatus | None, Query(description="Only adapters with this status.")] = None,
) -> AdapterList:
    """The tenant's LoRA adapters (every version), with the validation gate's metrics and the reason."""
    adapters = state.memory.adapters(namespace=namespace, status=status)
    return AdapterList(total=len(adapters), adapters=adapters)


@router.get("/ledger", response_model=LedgerReport, tags=["store"])
def ledger(
    namespace: Tenant,
    state: State,
    bucket: Annotated[Literal["hour", "day"], Query(description="Sum calls per hour or per day (UTC).")] = "day",
    periods: Annotated[int, Query(ge=1, le=1000, description="The latest periods with calls.")] = 60,
) -> LedgerReport:
    """LLM calls made for this tenant (building, training, respond): calls, tokens and cost, in all and over
    time. ``augment`` makes none."""
    path = llm_db_path(state.memory.paths.root)
    if not path.exists():
        return LedgerReport(bucket=bucket, totals=_EMPTY_USAGE, by_purpose={}, periods=[])
    book = Ledger(path)
    try:
        return LedgerReport(
            bucket=bucket,
            totals=book.usage(namespace=namespace),
            by_purpose=book.usage_by_purpose(namespace=namespace),
            periods=[
                LedgerPeriod.model_validate(p) for p in book.timeline(namespace=namespace, bucket=bucket, limit=periods)
            ],
        )
    finally:
        book.close()


_EMPTY_USAGE: dict[str, Any] = {
    **dict.fromkeys(("calls", "ok", "invalid", "errors", "cache_hits", "attempts", "tokens_in", "tokens_out"), 0),
    "cost_usd": None,
    "latency_s": 0.0,
}


def _cluster_summary(memory: UnoMemory, namespace: str, cluster: Cluster) -> ClusterSummary:
    # The first members' requests, one per distinct text: cheap (a few rows), and the label already quotes the
    # most typical requests.
    logs = memory.store.get_logs(cluster.member_log_ids[: REPRESENTATIVE_QUERIES * 4], Scope(namespace=namespace))
    queries = list(dict.fromkeys(log.query for log in logs))[:REPRESENTATIVE_QUERIES]
    return ClusterSummary(
        id=cluster.id,
        label=cluster.label,
        route=cluster.route,
        gap_score=cluster.gap_score,
        maturity=cluster.maturity,
        blocked=cluster.blocked,
        size=len(cluster.member_log_ids),
        rule_ids=cluster.rule_ids,
        representative_queries=queries,
        updated_at=cluster.updated_at,
    )


# --- memory operations


@router.post("/augment", response_model=Augmentation, tags=["memory"])
def augment(body: AugmentRequest, namespace: Tenant, state: State) -> Augmentation:
    """The messages uno would send the model for ``query``, with the rules it learnt (no LLM call)."""
    return state.memory.augment(
        body.query,
        user_id=body.user_id,
        namespace=namespace,
        system_prompt=body.system_prompt,
        explain=body.explain,
        budget_tokens=body.budget_tokens,
        max_rules=body.max_rules,
    )


@router.post("/search", response_model=SearchResponse, tags=["memory"])
def search(body: SearchRequest, namespace: Tenant, state: State) -> SearchResponse:
    """The active rules whose instruction is closest to ``query``: ``k`` of them when ``k`` are visible
    (``user_id``: as that user sees them, without other users' personal rules)."""
    hits = state.memory.search(body.query, k=body.k, user_id=body.user_id, namespace=namespace)
    return SearchResponse(hits=[SearchResult(rule=hit.rule, score=hit.score) for hit in hits])


@router.get("/export", response_model=ExportDocument, tags=["memory"])
def export(namespace: Tenant, state: State) -> ExportDocument:
    """The tenant's logs, rules (with manual edits, pins and retirements), verdicts and rule history, as
    ``POST /v1/import`` reads them back."""
    records = [ExportLine.model_validate(line) for line in state.memory.export_records(namespace=namespace)]
    return ExportDocument(namespace=namespace, records=records)


@router.post("/import", response_model=ImportReport, responses=CONFLICT, tags=["memory"])
def import_records(body: ImportRequest, namespace: Tenant, state: State, author: Author) -> ImportReport:
    """Read back what ``GET /v1/export`` returned, into this tenant, then re-cluster and re-index. All or nothing:
    when a record is invalid nothing is stored and each bad record is named."""
    lines = [line.model_dump(exclude_none=True) for line in body.records]
    try:
        return state.memory.import_records(lines, namespace=namespace, by=author)
    except InvalidImport as error:
        details = [ErrorDetail(loc=f"body.records[{line - 1}]", message=reason) for line, reason in error.problems]
        raise ApiError(422, summarize(details, str(error)), details=details) from None
    except NamespaceConflictError:  # ids are global: say so without naming the tenant that holds them
        raise ApiError(409, "a log or rule id in the import is already taken: nothing was imported") from None


@router.post("/forget", response_model=ForgetReport, tags=["memory"])
def forget(body: ForgetRequest, namespace: Tenant, state: State) -> ForgetReport:
    """Delete a user's logs (or logs by id) and everything learnt only from them; re-score the rest."""
    return state.memory.forget(user_id=body.user_id, log_ids=body.log_ids or None, namespace=namespace)


@router.get("/stats", response_model=dict[str, Any], tags=["memory"])
def stats(namespace: Tenant, state: State) -> dict[str, Any]:
    """Counts of what the tenant's store holds."""
    return state.memory.stats(namespace=namespace)


# --- helpers


def _on_rule(memory: UnoMemory, namespace: str, rule_id: str, change: Callable[[], Rule]) -> Rule:
    """Run a change of one rule: 404 when the tenant has no such rule, 422 for a value it cannot take."""
    _rule_or_404(memory, namespace, rule_id)
    try:
        return change()
    except KeyError:  # deleted or forgotten meanwhile: answer 404 like any missing rule
        raise ApiError(404, f"no rule {rule_id!r} in this tenant") from None
    except ValueError as error:
        raise ApiError(422, str(error), details=[ErrorDetail(loc="body", message=str(error))]) from None


def _rule_or_404(memory: UnoMemory, namespace: str, rule_id: str) -> Rule:
    found = memory.store.get_rules([rule_id], Scope(namespace=namespace))
    if not found:
        raise ApiError(404, f"no rule {rule_id!r} in this tenant")
    return found[0]


def _stamped(record: LogRecord, caller: Caller) -> LogRecord:
    """The record with the identity of the caller's key, whatever it carried (a client cannot vouch for itself)."""
    return record.model_copy(update={"verified_id": caller.verified_id(record.user_id)})


def _sent_by(log: LogRecord, caller: Caller) -> bool:
    """Whether ``log`` was stamped by the caller's key (or carries no key stamp at all)."""
    stamp = log.verified_id
    if caller.key_id is None or stamp is None or not stamp.startswith("key:"):
        return True
    return stamp == caller.key_id or stamp.startswith(caller.key_id + "/")


def _refuse_id_conflicts(memory: UnoMemory, namespace: str, records: list[LogRecord]) -> None:
    """A record reusing one of this tenant's log ids for a different log is refused before anything is stored.

    Only the tenant's own logs are read: log ids are unique per namespace, so whether another tenant uses an id
    is never visible here.
    """
    held = {log.id: log for log in memory.store.get_logs([r.id for r in records], Scope(namespace=namespace))}
    details: list[ErrorDetail] = []
    for index, record in enumerate(records):
        earlier = held.setdefault(record.id, record)  # a stored log, or an earlier record of this request
        if earlier is not record and not record.restates(earlier):
            details.append(
                ErrorDetail(
                    loc=f"body.logs[{index}]",
                    message=f"log id {record.id!r} already holds a different log in this tenant: give this one "
                    "another id (or none, to derive it from its content)",
                )
            )
    if details:
        raise ApiError(409, summarize(details, "log ids already in use"), details=details)
