"""Survey campaigns (đợt khảo sát): which instrument, where, when, which stream, what minimum n."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveyapp.models import Campaign, Instrument, InstrumentStatus, Stream, Unit
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.periods import FIRST_YEAR, LAST_YEAR
from surveyapp.services.validation import check_text, new_code


def list_campaigns(session: Session, scope: Scope) -> list[Campaign]:
    """Campaigns that cover at least one unit in scope."""
    campaigns = session.scalars(
        select(Campaign)
        .options(selectinload(Campaign.units), selectinload(Campaign.instrument))
        .order_by(Campaign.starts_on.desc(), Campaign.code)
    )
    return [c for c in campaigns if any(scope.covers(u.id) for u in c.units)]


def create_campaign(
    session: Session,
    scope: Scope,
    *,
    code: str,
    name: str,
    instrument_id: int,
    stream: Stream,
    starts_on: date,
    ends_on: date,
    unit_codes: Sequence[str],
    min_n: int,
    margin: Decimal,
    now: datetime,
) -> Campaign:
    scope.require(Permission.MANAGE_SETUP)
    code = new_code(session, Campaign.code, code)
    if ends_on < starts_on:
        raise InvalidInput(N_("Ngày kết thúc phải sau ngày bắt đầu."), field="ends_on")
    for field, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise InvalidInput(
                N_("Năm phải từ %(first)s đến %(last)s."),
                field=field,
                first=FIRST_YEAR,
                last=LAST_YEAR,
            )
    if not 0 <= min_n <= 100_000:
        raise InvalidInput(N_("Cỡ mẫu tối thiểu phải từ 0 đến 100.000."), field="min_n")
    if not Decimal("0") < margin < Decimal("1"):
        raise InvalidInput(N_("Sai số phải lớn hơn 0 và nhỏ hơn 1 (ví dụ 0,05)."), field="margin")
    instrument = session.get(Instrument, instrument_id)
    if instrument is None or instrument.status is not InstrumentStatus.PUBLISHED:
        raise InvalidInput(N_("Hãy chọn một phiếu khảo sát đã công bố."), field="instrument")
    units = list(session.scalars(select(Unit).where(Unit.code.in_(unit_codes))))
    if (
        not units
        or len(units) != len(set(unit_codes))
        or not all(scope.covers(u.id) for u in units)
    ):
        raise InvalidInput(N_("Hãy chọn ít nhất một đơn vị bạn phụ trách."), field="units")
    campaign = Campaign(
        code=code,
        name=check_text(name, "name", 200),
        instrument=instrument,
        stream=stream,
        starts_on=starts_on,
        ends_on=ends_on,
        min_n=min_n,
        margin=margin,
    )
    campaign.units.extend(units)
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        user_id=scope.user_id,
        action="campaign.create",
        entity=("campaign", code),
        before=None,
        after={
            "instrument": f"{instrument.code}:{instrument.version}",
            "stream": stream.value,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "units": sorted(u.code for u in units),
        },
        now=now,
    )
    return campaign


def close_campaign(session: Session, scope: Scope, code: str, now: datetime) -> Campaign:
    scope.require(Permission.MANAGE_SETUP)
    campaign = session.scalar(
        select(Campaign).where(Campaign.code == code).options(selectinload(Campaign.units))
    )
    if campaign is None or not all(scope.covers(u.id) for u in campaign.units):
        raise NotFound(N_("Không tìm thấy."))
    campaign.is_closed = True
    audit.record(
        session,
        user_id=scope.user_id,
        action="campaign.close",
        entity=("campaign", code),
        before={"closed": False},
        after={"closed": True},
        now=now,
    )
    return campaign
