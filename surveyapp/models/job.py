"""Background exports and API tokens: what an official asked for, and how they sign API calls."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.enums import str_enum
from surveyapp.models.unit import Unit
from surveyapp.models.user import User


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(Base):
    """A background job an official asked for, run by a queue worker: an export (``kind``
    "scores" or "responses"), whose finished file is kept in ``export_files`` so that any web
    server can serve it, or a dossier file upload (``kind`` "dossiers"), whose uploaded file is
    kept there only until the job ends and whose ``result`` says what was stored. ``attempt``
    numbers the runs: a run left by a killed worker is taken over by a new attempt, and a
    superseded run stops."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "scores" or "responses"
    params: Mapped[dict[str, Any]]
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus), default=JobStatus.QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    attempt: Mapped[int] = mapped_column(default=0, server_default="0")
    size: Mapped[int | None] = mapped_column(BigInteger)  # bytes of the finished file
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]  # an upload's counts and refused rows
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ExportFile(Base):
    """One part (at most PART_BYTES) of a job's file, in order: a finished export's, or an
    upload's until it has been read."""

    __tablename__ = "export_files"
    PART_BYTES = 1024 * 1024

    job_id: Mapped[int] = mapped_column(
        ForeignKey("export_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TokenKind(enum.StrEnum):
    READ = "read"  # the official's own token: reads what the official may see
    INTAKE = "intake"  # an integration's token: writes dossiers of one unit subtree, reads nothing


class ApiToken(Base):
    """A bearer token for the JSON API. Only a hash is stored. A read token acts with its owner's
    scope; an intake token (created by a PAR office for a one-stop system) writes dossiers for the
    subtree of ``unit`` and nothing else."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TokenKind] = mapped_column(
        str_enum(TokenKind), default=TokenKind.READ, server_default="read"
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    unit: Mapped[Unit | None] = relationship()
