"""What the dossiers of a unit's subtree show over a period: received and returned, returned
early / on time / late by service field and procedure, invitations sent and failed, the rating
response rate per channel; one dossier's page (masked contact, timeline). Dossiers are counted
under their handling unit by default, or under the place that received them."""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from surveyapp.models import (
    Dossier,
    DossierStatus,
    Invitation,
    InvitationStatus,
    Procedure,
    Response,
    ServiceField,
    Unit,
)
from surveyapp.services.access import Scope
from surveyapp.services.errors import N_, NotFound
from surveyapp.services.org import units
from surveyapp.services.periods import Period
from surveyapp.services.reporting.counts import Attribution


class Timeliness(enum.StrEnum):
    EARLY = "early"  # returned on a day before the due day
    ON_TIME = "on_time"  # on the due day, by the due time
    LATE = "late"  # after the due time (trễ hẹn)
    NO_DUE = "no_due"  # no due date sent


def timeliness(returned: datetime, due: datetime | None, timezone: str) -> Timeliness:
    """Early, on time or late, comparing local days for "early" and the moment for "late"."""
    if due is None:
        return Timeliness.NO_DUE
    if returned > due:
        return Timeliness.LATE
    zone = ZoneInfo(timezone)
    if returned.astimezone(zone).date() < due.astimezone(zone).date():
        return Timeliness.EARLY
    return Timeliness.ON_TIME


@dataclass
class Row:
    """Dossiers returned in the period under one service field or procedure."""

    code: str | None
    name: str | None
    returned: int = 0
    by_time: dict[Timeliness, int] = field(default_factory=lambda: defaultdict(int))

    def share(self, kind: Timeliness) -> float | None:
        """Share of ``kind`` among the returned dossiers that had a due date (None if none)."""
        dated = self.returned - self.by_time[Timeliness.NO_DUE]
        return self.by_time[kind] / dated if dated else None


@dataclass
class DossierFigures:
    received: int
    returned: int
    cancelled: int
    total: Row
    fields: list[Row]
    procedures: list[Row]
    invitations: dict[InvitationStatus, int]
    # channel → (invitations sent, of those dossiers rated)
    response: dict[str, tuple[int, int]]

    def response_rate(self, channel: str) -> float | None:
        sent, rated = self.response.get(channel, (0, 0))
        return rated / sent if sent else None


def dossier_figures(
    session: Session,
    unit: Unit,
    period: Period,
    timezone: str,
    count_by: Attribution = Attribution.HANDLING,
) -> DossierFigures:
    """The figures of ``unit``'s subtree (the caller checked the scope covers ``unit``)."""
    ids = units.subtree_ids(session, unit)
    start, end = period.bounds(timezone)
    place = count_by.unit_of(Dossier.unit_id).in_(ids)

    def count(*where: Any) -> int:
        return int(
            session.scalar(select(func.count()).select_from(Dossier).where(place, *where)) or 0
        )

    received = count(Dossier.received_at >= start, Dossier.received_at < end)
    cancelled = count(
        Dossier.status == DossierStatus.CANCELLED,
        Dossier.received_at >= start,
        Dossier.received_at < end,
    )
    in_period = (Dossier.returned_at >= start, Dossier.returned_at < end)
    rows = session.execute(
        select(
            Dossier.field_code,
            ServiceField.name,
            Dossier.procedure_code,
            Procedure.name,
            Dossier.procedure_name,
            Dossier.returned_at,
            Dossier.due_at,
        )
        .outerjoin(ServiceField, ServiceField.id == Dossier.service_field_id)
        .outerjoin(Procedure, Procedure.id == Dossier.procedure_id)
        .where(place, *in_period)
    )
    total = Row(None, None)
    by_field: dict[str | None, Row] = {}
    by_procedure: dict[str | None, Row] = {}
    for field_code, field_name, proc_code, proc_name, sent_name, returned, due in rows:
        if returned is None:
            continue
        kind = timeliness(returned, due, timezone)
        field_row = by_field.setdefault(
            field_code, Row(field_code, (field_name or {}).get("vi") if field_name else None)
        )
        proc_row = by_procedure.setdefault(
            proc_code, Row(proc_code, (proc_name or {}).get("vi") if proc_name else sent_name)
        )
        for row in (total, field_row, proc_row):
            row.returned += 1
            row.by_time[kind] += 1
    returned_ids = select(Dossier.id).where(place, *in_period)
    invitations = {
        status: int(n)
        for status, n in session.execute(
            select(Invitation.status, func.count())
            .where(Invitation.dossier_id.in_(returned_ids))
            .group_by(Invitation.status)
        )
    }
    rated = select(Response.dossier_id).where(Response.dossier_id.isnot(None))
    response = {
        str(channel.value if channel else "—"): (int(sent), int(answered or 0))
        for channel, sent, answered in session.execute(
            select(
                Invitation.channel,
                func.count(),
                func.sum(
                    func.cast(Invitation.dossier_id.in_(rated), type_=Invitation.attempts.type)
                ),
            )
            .where(
                Invitation.dossier_id.in_(returned_ids),
                Invitation.status == InvitationStatus.SENT,
            )
            .group_by(Invitation.channel)
        )
    }

    def ordered(rows: dict[str | None, Row]) -> list[Row]:
        return sorted(rows.values(), key=lambda r: (-r.returned, r.code or ""))

    return DossierFigures(
        received,
        total.returned,
        cancelled,
        total,
        ordered(by_field),
        ordered(by_procedure),
        invitations,
        response,
    )


def mask_phone(phone: str | None) -> str | None:
    """+84912345678 → 091•••••78: enough to tell two apart, not to call."""
    if not phone:
        return None
    national = "0" + phone.removeprefix("+84") if phone.startswith("+84") else phone
    return national[:3] + "•" * max(len(national) - 5, 0) + national[-2:]


def mask_email(email: str | None) -> str | None:
    """cong.dan@example.vn → c•••@example.vn."""
    if not email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


@dataclass(frozen=True)
class DossierView:
    dossier: Dossier
    phone: str | None  # masked
    email: str | None  # masked
    invitation: Invitation | None
    rating: Response | None
    timeline: list[tuple[datetime, str]]  # (when, msgid), oldest first


def find_dossier(session: Session, scope: Scope, code: str) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.code == code.strip()[:60]))
    if dossier is None or not (
        scope.covers(dossier.unit_id) or scope.covers(dossier.receiving_unit_id)
    ):
        raise NotFound(N_("Không tìm thấy hồ sơ %(code)s."), code=code.strip()[:60])
    return dossier


def dossier_view(session: Session, scope: Scope, dossier_id: int) -> DossierView:
    """One dossier for an official whose scope covers its handling or receiving unit."""
    dossier = session.scalar(
        select(Dossier)
        .options(
            joinedload(Dossier.unit),
            joinedload(Dossier.receiving_unit),
            joinedload(Dossier.counter),
            joinedload(Dossier.procedure),
            joinedload(Dossier.service_field),
            joinedload(Dossier.staff),
        )
        .where(Dossier.id == dossier_id)
    )
    if dossier is None or not (
        scope.covers(dossier.unit_id) or scope.covers(dossier.receiving_unit_id)
    ):
        raise NotFound(N_("Không tìm thấy hồ sơ."))
    invitation = session.scalar(select(Invitation).where(Invitation.dossier_id == dossier.id))
    rating = session.scalar(
        select(Response).where(Response.dossier_id == dossier.id).order_by(Response.id).limit(1)
    )
    timeline: list[tuple[datetime, str]] = [(dossier.received_at, N_("Tiếp nhận hồ sơ"))]
    if dossier.due_at:
        timeline.append((dossier.due_at, N_("Hẹn trả kết quả")))
    if dossier.returned_at:
        timeline.append((dossier.returned_at, N_("Trả kết quả")))
    if invitation is not None:
        timeline.append((invitation.created_at, N_("Lời mời đánh giá được xếp hàng")))
        if invitation.sent_at:
            timeline.append((invitation.sent_at, N_("Đã gửi lời mời đánh giá")))
    if rating is not None:
        timeline.append((rating.submitted_at, N_("Người dân đánh giá")))
    if dossier.contact_erased_at:
        timeline.append((dossier.contact_erased_at, N_("Đã xoá số điện thoại và e-mail")))
    timeline.sort(key=lambda entry: entry[0])
    return DossierView(
        dossier,
        mask_phone(dossier.phone),
        mask_email(dossier.email),
        invitation,
        rating,
        timeline,
    )
