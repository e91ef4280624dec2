"""The REST API: logs and feedback in; rules out (list, inspect with provenance, retire); augment, build, forget,
stats. Every route works inside the tenant of the request's API key and cannot name another.

Routes are plain functions: FastAPI runs them on its thread pool, where the blocking SQLite and FAISS calls
belong. ``UnoMemory`` serialises writes itself and serves reads from an immutable snapshot.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import ValidationError

from rule_store.protocol import Scope
from rule_store.records import AdapterStatus, Cluster, Feedback, LogRecord, Rule, RuleStatus
from uno.gap import MANUAL_PREFIX
from uno.ingest import FormatDetectionError, InvalidRecord, parse_record
from uno.inject import Augmentation
from uno.ledger import Ledger, llm_db_path
from uno.memory import BuildReport, ForgetReport, UnoMemory
from uno.server.auth import State, Tenant
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
    AdapterList,
    AugmentRequest,
    BuildRequest,
    ClusterList,
    ClusterSummary,
    ExchangeRequest,
    ExchangeResponse,
    FeedbackResponse,
    ForgetRequest,
    IngestRequest,
    IngestResponse,
    LedgerPeriod,
    LedgerReport,
    QuarantineList,
    RetireRequest,
    RuleDetail,
    RuleList,
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
    409: {"model": ErrorResponse, "description": "A log id in the request is already taken."}
}


# --- logs and feedback in


@router.post("/logs", response_model=IngestResponse, responses=CONFLICT, tags=["logs"])
def ingest_logs(body: IngestRequest, namespace: Tenant, state: State) -> IngestResponse:
    """Store log records (no model call). All or nothing: if any record is invalid, none is stored and the
    answer names each bad record and why. Records already stored are reported as duplicates."""
    records: list[LogRecord] = []
    problems: list[ErrorDetail] = []
    for index, item in enumerate(body.logs):
        try:
            records.append(parse_record(item, body.format, namespace=namespace, user_id=body.user_id))
        except (InvalidRecord, FormatDetectionError) as error:
            problems.append(ErrorDetail(loc=f"body.logs[{index}]", message=str(error)))
    if problems:
        raise ApiError(
            422, summarize(problems, f"{len(problems)} of {len(body.logs)} logs are invalid"), details=problems
        )
    _refuse_taken_ids(state.memory, namespace, records)
    outcome = state.memory.add_many(records, namespace=namespace)
    return IngestResponse(ids=outcome.ids, inserted=outcome.inserted, duplicates=outcome.duplicates)


@router.post("/exchanges", response_model=ExchangeResponse, tags=["logs"])
def log_exchange(body: ExchangeRequest, namespace: Tenant, state: State) -> ExchangeResponse:
    """Record a conversation your app just had (its messages and the model's answer). When the messages contain
    an answer logged earlier, the user's new turn is recorded as a follow-up on it; uno's memory block is never
    stored."""
    if not any(m.role == "user" for m in body.messages):
        raise ApiError(
            422, "the messages hold no user turn", details=[ErrorDetail(loc="body.messages", message="no user turn")]
        )
    exchange = state.recorder.begin(body.messages, namespace=namespace, user_id=body.user_id)
    log_id = state.recorder.finish(exchange, body.response, metadata=body.metadata, source="rest")
    return ExchangeResponse(
        log_id=log_id, previous_log_id=exchange.previous_log_id, followup_recorded=exchange.followup is not None
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
    log_id: LogId, event: Annotated[Feedback, Body()], namespace: Tenant, state: State
) -> FeedbackResponse:
    """Attach a feedback event (follow-up, edit, reaction, rating) to a stored log; the next build learns it.
    ``turn`` names the assistant message it is about (default: the first answer)."""
    try:
        updated = state.memory.feedback(log_id, event, namespace=namespace)
    except KeyError:
        raise ApiError(404, f"no log {log_id!r} in this tenant") from None
    except ValidationError as error:
        details = validation_details(error.errors(include_url=False), ("body",))
        raise ApiError(422, summarize(details, "the feedback does not fit this log"), details=details) from None
    return FeedbackResponse(log_id=updated.id, feedback_events=len(updated.feedback_events()))


# --- learning


@router.post("/build", response_model=BuildReport, tags=["memory"])
def build(namespace: Tenant, state: State, body: BuildRequest | None = None) -> BuildReport:
    """Distil, cluster, gate and index what was logged since the last build (``full``: everything)."""
    return state.memory.build(full=body.full if body else False, namespace=namespace)


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


@router.post("/rules/{rule_id}/retire", response_model=Rule, responses=NOT_FOUND, tags=["rules"])
def retire_rule(rule_id: RuleId, namespace: Tenant, state: State, body: RetireRequest | None = None) -> Rule:
    """Retire a rule by hand: it is no longer injected, and later builds keep it retired."""
    memory = state.memory
    rule = _rule_or_404(memory, namespace, rule_id)
    if rule.status is RuleStatus.RETIRED and rule.status_reason.startswith(MANUAL_PREFIX):
        return rule
    reason = body.reason if body and body.reason else ""
    try:
        return memory.retire_rule(rule_id, reason=reason, by="API", namespace=namespace)
    except KeyError:  # forgotten between the two calls: answer 404 like any missing rule
        return _rule_or_404(memory, namespace, rule_id)


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


@router.post("/forget", response_model=ForgetReport, tags=["memory"])
def forget(body: ForgetRequest, namespace: Tenant, state: State) -> ForgetReport:
    """Delete a user's logs (or logs by id) and everything learnt only from them; re-score the rest."""
    return state.memory.forget(user_id=body.user_id, log_ids=body.log_ids or None, namespace=namespace)


@router.get("/stats", response_model=dict[str, Any], tags=["memory"])
def stats(namespace: Tenant, state: State) -> dict[str, Any]:
    """Counts of what the tenant's store holds."""
    return state.memory.stats(namespace=namespace)


# --- helpers


def _rule_or_404(memory: UnoMemory, namespace: str, rule_id: str) -> Rule:
    found = memory.store.get_rules([rule_id], Scope(namespace=namespace))
    if not found:
        raise ApiError(404, f"no rule {rule_id!r} in this tenant")
    return found[0]


def _refuse_taken_ids(memory: UnoMemory, namespace: str, records: list[LogRecord]) -> None:
    """Log ids are global: an id another tenant holds is refused, without saying whose it is."""
    taken = sorted(log.id for log in memory.store.get_logs([r.id for r in records]) if log.namespace != namespace)
    if taken:
        raise ApiError(
            409,
            f"log id {taken[0]!r} is already taken: give the log another id (or none, to derive it)",
            details=[ErrorDetail(loc="body.logs", message=f"id {log_id!r} is taken") for log_id in taken],
        )
