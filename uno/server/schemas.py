"""Request and response bodies of the REST API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rule_store.records import LogRecord, Message, Rule

# Bounds on what one request may carry (the byte limit on the body applies too).
MAX_LOGS_PER_REQUEST = 1000
MAX_MESSAGES = 500
MAX_QUERY_CHARS = 20_000
MAX_IDS = 1000
MAX_ID_CHARS = 200
MAX_REASON_CHARS = 500


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


class RuleDetail(BaseModel):
    rule: Rule
    source_log_ids: list[str]
    sources: list[SourceLog] = Field(description="The logs the rule was learnt from.")


class RetireRequest(RequestBody):
    reason: str | None = Field(default=None, max_length=MAX_REASON_CHARS)


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
    "AugmentRequest",
    "BuildRequest",
    "ExchangeRequest",
    "ExchangeResponse",
    "FeedbackResponse",
    "ForgetRequest",
    "Health",
    "IngestRequest",
    "IngestResponse",
    "LogRecord",
    "RetireRequest",
    "RuleDetail",
    "RuleList",
    "SourceLog",
]
