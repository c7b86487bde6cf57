"""Officials who sign in to the dashboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.enums import Role, str_enum
from surveyapp.models.unit import Unit


class User(Base):
    """An official; sees the data of ``unit`` and the units below it, as ``role`` allows."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Raised by sign-out, a password change and deactivation: every session cookie issued
    # before is refused from then on (it carries the version it was issued with).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()

    # The interface Flask-Login expects, without importing Flask here.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """Session identifier; it changes with the session version and the password, which
        signs out every session issued before."""
        return f"{self.id}.{self.session_version}.{self.password_hash[-10:]}"

    def end_sessions(self) -> None:
        """Sign this official out everywhere: cookies issued until now stop working."""
        self.session_version += 1


class LoginFailure(Base):
    """Failed sign-ins to one account from one client (a keyed hash of its address, never the
    address). A lock holds only for that client, so nobody can lock an official out at will."""

    __tablename__ = "login_failures"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
