"""The results bucket's lifecycle settings (`results_lifecycle` in an environment's cdk.json block)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stacks.config_formats import ALSO


class ResultsLifecycle(BaseModel):
    """Storage classes and expiry of the landed conversation details (and the bucket's access logs)."""

    # strict: true is not a day count, "30" and 30.0 are not integers.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    # S3 refuses Standard-IA transitions earlier than 30 days.
    infrequent_access_after_days: Annotated[int, Field(ge=30, le=36_500)] | None = Field(
        None,
        description="days after which landed conversations move to Standard-IA; S3 does not move objects "
        "under 128 KB by default and a conversation is a few KB, so usually leave it unset",
    )
    glacier_instant_retrieval_after_days: Annotated[int, Field(ge=30, le=36_500)] | None = Field(
        None,
        description="days after which landed conversations move to Glacier Instant Retrieval",
        json_schema_extra={ALSO: "at least `infrequent_access_after_days` + 30"},
    )
    expire_after_days: Annotated[int, Field(ge=1, le=36_500)] | None = Field(
        None,
        description="days after which landed conversations are deleted; unset: kept",
        json_schema_extra={ALSO: "after the last transition"},
    )
    expire_compacted_json_after_days: Annotated[int, Field(ge=1, le=36_500)] | None = Field(
        None,
        description="days after which a landed conversation's JSON object is deleted, its day compacted to "
        "Parquet by then (the views read a compacted day from its Parquet); unset: kept",
        json_schema_extra={
            ALSO: "more than `finalize_lag_days` + 1, and `audit_enabled` (the audit compacts)"
        },
    )
    # Writing a conversation again (a late duplicate, finalization) leaves a noncurrent version behind.
    noncurrent_versions_expire_after_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        30, description="days an overwritten version of a conversation is kept"
    )
    access_logs_expire_after_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        90, description="days the buckets' S3 server access logs are kept"
    )

    @model_validator(mode="after")
    def _transitions_in_order(self) -> ResultsLifecycle:
        ia, glacier, expire = (
            self.infrequent_access_after_days,
            self.glacier_instant_retrieval_after_days,
            self.expire_after_days,
        )
        if ia is not None and glacier is not None and glacier < ia + 30:
            raise ValueError(
                "glacier_instant_retrieval_after_days must be at least "
                f"infrequent_access_after_days + 30 ({ia + 30}): S3 keeps objects 30 days in Standard-IA"
            )
        last_transition = max((d for d in (ia, glacier) if d is not None), default=0)
        if expire is not None and expire <= last_transition:
            raise ValueError(
                f"expire_after_days must be greater than the last transition ({last_transition} days)"
            )
        return self
