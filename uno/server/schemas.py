"""Request and response bodies of the REST API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rule_store.records import Adapter, LogRecord, Message, Polarity, QuarantineRecord, Route, Rule, RuleChange

# Bounds on what one request may carry (the byte limit on the body applies too).
MAX_LOGS_PER_REQUEST = 1000
MAX_MESSAGES = 500
MAX_QUERY_CHARS = 20_000
MAX_IDS = 1000
MAX_ID_CHARS = 200
MAX_REASON_CHARS = 500
MAX_RULE_TEXT_CHARS = 2000
MAX_IMPORT_RECORDS = 100_000


class RequestBody(BaseModel):
    """Request bodies refuse unknown fields (a typo is reported, not ignored) and values of the wrong JSON type
    (``"full": 0`` is not a boolean)."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- logs and feedback in


class IngestRequest(RequestBody):
    logs: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_LOGS_PER_REQUEST,
        description="Log records in the plain, OpenAI-chat or MemoryBench format (detected per record unless "
        "`format` is given), as `uno ingest` reads them.",
    )
    format: Literal["plain", "openai", "memorybench"] | None = None
    user_id: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID_CHARS, description="User of the records that name none."
    )


class IngestResponse(BaseModel):
    ids: list[str] = Field(description="The id of each record, in request order.")
    inserted: list[str]
    duplicates: list[str] = Field(description="Records already stored (same id or same content): not added again.")


class ExchangeRequest(RequestBody):
    messages: list[Message] = Field(
        min_length=1, max_length=MAX_MESSAGES, description="The conversation your app sent to the model."
    )
    response: str = Field(min_length=1, description="The model's answer.")
    user_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS)
    metadata: dict[str, Any] = Field(default_factory=dict)


class ExchangeResponse(BaseModel):
    log_id: str | None = Field(description="The new log (null when there was nothing new to log).")
    previous_log_id: str | None = Field(description="The earlier logged answer this conversation continues.")
    followup_recorded: bool = Field(description="Whether the new user turn was recorded as feedback on it.")


class FeedbackResponse(BaseModel):
    log_id: str
    feedback_events: int = Field(description="Feedback events the log now has (explicit and implied).")


# --- rules out


class RuleList(BaseModel):
    total: int
    rules: list[Rule]


class SourceLog(BaseModel):
    log_id: str
    user_id: str | None
    timestamp: datetime
    query: str
    verdict: str | None = Field(
        default=None, description="What the log's feedback amounted to when it was distilled (null: not yet)."
    )
    verdict_reasons: list[str] = Field(default_factory=list)


class RuleDetail(BaseModel):
    rule: Rule
    source_log_ids: list[str]
    sources: list[SourceLog] = Field(description="The logs the rule was learnt from.")


class RetireRequest(RequestBody):
    reason: str | None = Field(default=None, max_length=MAX_REASON_CHARS)


def _not_blank(value: str | None, name: str) -> str | None:
    if value is not None and not value.strip():
        raise ValueError(f"{name} is blank")
    return value


class AddRuleRequest(RequestBody):
    """A rule written by hand: active at once, shared by the tenant, never retired or rewritten by a build."""

    when: str = Field(min_length=1, max_length=MAX_RULE_TEXT_CHARS, description="The situation it applies to.")
    do: str = Field(min_length=1, max_length=MAX_RULE_TEXT_CHARS, description="The instruction.")
    polarity: Polarity = Polarity.DO
    aspect: str | None = Field(default=None, max_length=200, description="What it is about, e.g. `length:short`.")
    rationale: str = Field(default="", max_length=MAX_RULE_TEXT_CHARS)
    pinned: bool = True

    @model_validator(mode="after")
    def _texts(self) -> AddRuleRequest:
        _not_blank(self.when, "when")
        _not_blank(self.do, "do")
        return self


class EditRuleRequest(RequestBody):
    """The fields to change (at least one); the others stay. `aspect: ""` clears the aspect."""

    when: str | None = Field(default=None, min_length=1, max_length=MAX_RULE_TEXT_CHARS)
    do: str | None = Field(default=None, min_length=1, max_length=MAX_RULE_TEXT_CHARS)
    polarity: Polarity | None = None
    aspect: str | None = Field(default=None, max_length=200)
    rationale: str | None = Field(default=None, max_length=MAX_RULE_TEXT_CHARS)

    @model_validator(mode="after")
    def _changes_something(self) -> EditRuleRequest:
        if all(v is None for v in (self.when, self.do, self.polarity, self.aspect, self.rationale)):
            raise ValueError("give at least one of when, do, polarity, aspect, rationale")
        _not_blank(self.when, "when")
        _not_blank(self.do, "do")
        return self


class RuleHistory(BaseModel):
    rule_id: str
    changes: list[RuleChange] = Field(description="Every recorded change, oldest first: who, when, before/after.")


class SearchRequest(RequestBody):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=10, ge=1, le=100, description="How many rules (fewer only when fewer are visible).")
    user_id: str | None = Field(
        default=None, min_length=1, max_length=MAX_ID_CHARS, description="As seen by this user."
    )

    @model_validator(mode="after")
    def _query_not_blank(self) -> SearchRequest:
        _not_blank(self.query, "query")
        return self


class SearchResult(BaseModel):
    rule: Rule
    score: float = Field(description="Cosine similarity of the rule's instruction to the query.")


class SearchResponse(BaseModel):
    hits: list[SearchResult]


class LogList(BaseModel):
    total: int
    logs: list[LogRecord]


class ExportLine(BaseModel):
    """One exported record: a log (with whether a build saw it), a rule, a verdict or a rule history entry."""

    type: Literal["log", "rule", "verdict", "rule_change"]
    record: dict[str, Any]
    processed: bool | None = Field(default=None, description="Logs only: whether a build has distilled it.")


class ExportDocument(BaseModel):
    namespace: str
    records: list[ExportLine]


class ImportRequest(RequestBody):
    namespace: str | None = Field(
        default=None,
        max_length=200,
        description="Where the export came from (informational: records go into the API key's tenant).",
    )
    records: list[ExportLine] = Field(
        min_length=1, max_length=MAX_IMPORT_RECORDS, description="What `GET /v1/export` returned (`records`)."
    )


# --- what the store holds: clusters, quarantine, adapters, LLM usage


class ClusterSummary(BaseModel):
    id: str
    label: str
    route: Route
    gap_score: float | None = Field(description="How much the model lacks what the cluster's rules say (0..1).")
    maturity: float
    blocked: str = Field(description="Why nothing learnt here is served; empty when it is served.")
    size: int = Field(description="Logs in the cluster.")
    rule_ids: list[str]
    representative_queries: list[str] = Field(description="Requests from the cluster's logs, as users wrote them.")
    updated_at: datetime


class ClusterList(BaseModel):
    total: int
    clusters: list[ClusterSummary]


class QuarantineList(BaseModel):
    total: int
    records: list[QuarantineRecord] = Field(description="Input that could not be imported, and why; newest first.")


class AdapterList(BaseModel):
    total: int
    adapters: list[Adapter] = Field(description="Every adapter version, with its gate metrics and status reason.")


class LedgerPeriod(BaseModel):
    start: datetime
    calls: int
    cache_hits: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None


class LedgerReport(BaseModel):
    bucket: Literal["hour", "day"]
    totals: dict[str, Any] = Field(description="Calls, cache hits, attempts, tokens, cost and latency in all.")
    by_purpose: dict[str, dict[str, Any]] = Field(description="The same totals per purpose (distill, judge, ...).")
    periods: list[LedgerPeriod] = Field(
        description="Per hour or day (UTC), oldest first; periods without calls are left out."
    )


# --- memory operations


class AugmentRequest(RequestBody):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    user_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS)
    system_prompt: str | None = Field(default=None, max_length=MAX_QUERY_CHARS)
    explain: bool = False
    budget_tokens: int | None = Field(default=None, ge=1, le=10_000)
    max_rules: int = Field(default=8, ge=1, le=50)


class BuildRequest(RequestBody):
    full: bool = Field(default=False, description="Re-distil and re-cluster everything, not just what is new.")


class ForgetRequest(RequestBody):
    user_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS)
    log_ids: list[Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]] = Field(
        default_factory=list, max_length=MAX_IDS
    )

    @model_validator(mode="after")
    def _says_what(self) -> ForgetRequest:
        if self.user_id is None and not self.log_ids:
            raise ValueError("name a user_id or log_ids to forget (there is no 'forget everything')")
        return self


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    proxy_model: str | None = Field(description="The upstream model of /v1/chat/completions; null when disabled.")


__all__ = [
    "AdapterList",
    "AddRuleRequest",
    "AugmentRequest",
    "BuildRequest",
    "ClusterList",
    "ClusterSummary",
    "EditRuleRequest",
    "ExchangeRequest",
    "ExchangeResponse",
    "ExportDocument",
    "ExportLine",
    "FeedbackResponse",
    "ForgetRequest",
    "Health",
    "ImportRequest",
    "IngestRequest",
    "IngestResponse",
    "LedgerPeriod",
    "LedgerReport",
    "LogList",
    "LogRecord",
    "QuarantineList",
    "RetireRequest",
    "RuleDetail",
    "RuleHistory",
    "RuleList",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
    "SourceLog",
]
