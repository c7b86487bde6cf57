"""Where a submission goes: a counter's or a dossier's unit, its open campaign and instrument;
counter tokens resolved once per few seconds per worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, contains_eager

from surveyapp.caching import caches_of
from surveyapp.models import (
    Campaign,
    Counter,
    Dossier,
    Stream,
    Unit,
    campaign_units,
)
from surveyapp.services.errors import N_, Gone
from surveyapp.services.instruments.snapshots import InstrumentView, instrument_view
from surveyapp.services.org.units import ancestor_ids, resolve_counter_token
from surveyapp.services.periods import local_date

# Built once: constructing a statement costs more than running it on the survey's hot path.
_OPEN_CAMPAIGN = (
    select(Campaign)
    .join(campaign_units, campaign_units.c.campaign_id == Campaign.id)
    .join(Campaign.instrument)
    .options(contains_eager(Campaign.instrument))
    .where(
        campaign_units.c.unit_id.in_(bindparam("unit_ids", expanding=True)),
        Campaign.stream == bindparam("stream"),
        Campaign.is_closed.is_(False),
        Campaign.starts_on <= bindparam("day"),
        Campaign.ends_on >= bindparam("day"),
    )
    .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    .limit(1)
)


def find_open_campaign(session: Session, unit: Unit, day: date, stream: Stream) -> Campaign | None:
    """The newest open campaign of ``stream`` that covers ``unit`` (directly or via an ancestor)."""
    found = session.execute(
        _OPEN_CAMPAIGN, {"unit_ids": ancestor_ids(unit), "stream": stream, "day": day}
    ).first()
    return found[0] if found else None


COUNTER_CLOSED = N_("Đợt khảo sát tại quầy này đã kết thúc hoặc chưa bắt đầu.")
DOSSIER_CLOSED = N_("Hiện không có đợt đánh giá nào đang mở cho hồ sơ này.")


@dataclass(frozen=True)
class Place:
    """A unit or counter as a survey page needs it: plain values, safe to keep between requests."""

    id: int
    name: str


@dataclass(frozen=True)
class OpenCampaign:
    """The campaign a submission joins, as it was when the target was resolved."""

    id: int
    stream: Stream
    starts_on: date
    ends_on: date

    @classmethod
    def of(cls, campaign: Campaign) -> OpenCampaign:
        return cls(campaign.id, campaign.stream, campaign.starts_on, campaign.ends_on)

    def is_open_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class Target:
    """Where a submission goes: the unit, its open campaign, and the counter or dossier."""

    unit: Place
    campaign: OpenCampaign
    instrument: InstrumentView
    counter: Place | None = None
    dossier: Dossier | None = None  # fixed by a signed per-dossier link
    closed: str = COUNTER_CLOSED  # what the citizen reads when the campaign is no longer open


def counter_target(session: Session, counter: Counter, now: datetime, timezone: str) -> Target:
    """The general-stream campaign open today at the counter's unit, or Gone."""
    return _target(
        session,
        counter.unit,
        local_date(now, timezone),
        Stream.GENERAL,
        COUNTER_CLOSED,
        counter=Place(counter.id, counter.name),
    )


def _target(
    session: Session,
    unit: Unit,
    day: date,
    stream: Stream,
    closed: str,
    counter: Place | None = None,
    dossier: Dossier | None = None,
) -> Target:
    """The target at ``unit`` with the campaign of ``stream`` open on ``day``; else Gone(closed)."""
    campaign = find_open_campaign(session, unit, day, stream)
    if campaign is None:
        raise Gone(closed)
    return Target(
        unit=Place(unit.id, unit.name),
        campaign=OpenCampaign.of(campaign),
        instrument=instrument_view(
            session, campaign.instrument_id, campaign.instrument.source_hash
        ),
        counter=counter,
        dossier=dossier,
        closed=closed,
    )


def cached_counter_target(session: Session, token: str, now: datetime, timezone: str) -> Target:
    """The target of an active counter token (NotFound or Gone as ``counter_target``), kept in
    the app's caches for SURVEY_TARGET_CACHE_SECONDS (see surveyapp.caching for when it is
    emptied). A form and its submission both need it: resolving it was a third of the survey's
    cost. The date is checked on every use, so a campaign still ends on its last day."""
    caches = caches_of(session)
    target = caches.get(caches.targets, token)
    if target is not None and target.campaign.is_open_on(local_date(now, timezone)):
        return target  # type: ignore[no-any-return]
    target = counter_target(session, resolve_counter_token(session, token), now, timezone)
    caches.put(caches.targets, token, target)
    return target


def dossier_target(session: Session, dossier: Dossier, now: datetime, timezone: str) -> Target:
    """The official-stream campaign open today at the dossier's unit, or Gone."""
    return _target(
        session,
        session.get_one(Unit, dossier.unit_id),
        local_date(now, timezone),
        Stream.OFFICIAL,
        DOSSIER_CLOSED,
        dossier=dossier,
    )
