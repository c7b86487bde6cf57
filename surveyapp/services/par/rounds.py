"""The PAR sociological survey's rounds (đợt điều tra xã hội học): the province's respondent
groups and who rates which units (a YAML/JSON file or the dashboard), the named invitation list
(CSV/XLSX: group, contact, the units they rate), progress against the quotas, reminders, and the
close that erases the list. The single-use links and the answers are in ``rater_links``."""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO, Annotated, Any
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import Field, StringConstraints, ValidationError, model_validator
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from surveyapp.models import (
    Answer,
    Instrument,
    InvitationChannel,
    InvitationStatus,
    RaterLink,
    Respondent,
    RespondentGroup,
    Response,
    ResponseStatus,
    SurveyRound,
    Unit,
    UnitLevel,
)
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope, get_visible_unit
from surveyapp.services.collection.tables import TableLimits, open_table
from surveyapp.services.errors import N_, Conflict, InvalidInput, NotFound
from surveyapp.services.instruments import publishing
from surveyapp.services.invitations.delivery import next_allowed
from surveyapp.services.invitations.settings import QuietHours
from surveyapp.services.org import lineage
from surveyapp.services.par.settings import Code, Text, read_file
from surveyapp.services.periods import Period
from surveyapp.services.validation import StrictModel, describe_errors

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
MAX_PROBLEMS = 20  # refused rows listed in one message


class GroupIn(StrictModel):
    """A respondent group: its instrument, the unit levels it rates, its quota per unit."""

    code: Code
    name: dict[Annotated[str, StringConstraints(pattern=r"^(vi|en)$")], Name]
    instrument: Code
    rates: Annotated[list[UnitLevel], Field(min_length=1, max_length=5)]
    quota: Annotated[int, Field(ge=0, le=100_000)] = 0
    quotas: dict[Code, Annotated[int, Field(ge=0, le=100_000)]] = {}

    @model_validator(mode="after")
    def _vietnamese_name(self) -> GroupIn:
        if "vi" not in self.name:
            raise ValueError("tên nhóm cần tiếng Việt (name.vi)")
        return self


class RoundIn(StrictModel):
    """A round as typed or loaded; ``province`` is a unit code."""

    code: Code
    name: Name
    province: Code
    year: Annotated[int, Field(ge=2000, le=2100)]
    starts_on: date
    ends_on: date
    reminder_limit: Annotated[int, Field(ge=0, le=10)] = 2
    description: Text = ""
    groups: Annotated[list[GroupIn], Field(min_length=1, max_length=30)]

    @model_validator(mode="after")
    def _sound(self) -> RoundIn:
        if self.ends_on < self.starts_on:
            raise ValueError("ngày kết thúc (ends_on) trước ngày bắt đầu (starts_on)")
        codes = [g.code for g in self.groups]
        if len(set(codes)) != len(codes):
            raise ValueError("mã nhóm lặp lại")
        return self


ROUND_PROBLEMS = N_("Đợt điều tra không hợp lệ: %(problems)s.")


def read_round(raw: object) -> RoundIn:
    try:
        return RoundIn.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput(ROUND_PROBLEMS, field="round", problems=describe_errors(error)) from None


def save_round(
    session: Session, scope: Scope, raw: object, now: datetime
) -> tuple[SurveyRound, bool]:
    """Create or update a round and its groups (checked, audited); whether it is new. A closed
    round cannot change; a group that has links or answers cannot be removed."""
    scope.require(Permission.MANAGE_SETUP)
    data = read_round(raw)
    province = get_visible_unit(session, scope, data.province)
    if province.parent_id is not None:
        raise InvalidInput(
            N_("%(code)s không phải là một tỉnh."), field="province", code=province.code
        )
    instruments = {g.code: publishing.get_instrument(session, g.instrument) for g in data.groups}
    for group_in in data.groups:
        _check_quota_units(session, province, group_in)
    found = session.scalar(
        select(SurveyRound)
        .options(selectinload(SurveyRound.groups))
        .where(SurveyRound.code == data.code)
    )
    if found is not None and not scope.covers(found.province_id):
        raise Conflict(N_("Mã đợt %(code)s đã được dùng."), field="code", code=data.code)
    if found is not None and found.is_closed:
        raise Conflict(
            N_("Đợt %(code)s đã kết thúc; không sửa được."), field="round", code=found.code
        )
    if found is not None and found.province_id != province.id:
        raise Conflict(N_("Không đổi được tỉnh của một đợt."), field="province")
    before = as_mapping(found) if found is not None else None
    created = found is None
    survey = found or SurveyRound(code=data.code, province_id=province.id, created_at=now)
    if created:
        session.add(survey)
    survey.name, survey.year = data.name, data.year
    survey.starts_on, survey.ends_on = data.starts_on, data.ends_on
    survey.reminder_limit = data.reminder_limit
    survey.updated_at = now
    session.flush()
    kept = {g.code: g for g in survey.groups}
    wanted = {g.code for g in data.groups}
    for code, group in kept.items():
        if code not in wanted:
            if _group_in_use(session, group.id):
                raise Conflict(
                    N_("Nhóm %(code)s đã có người được mời hoặc câu trả lời; không bỏ được."),
                    field="groups",
                    code=code,
                )
            session.delete(group)
    for position, group_in in enumerate(data.groups):
        group = kept.get(group_in.code) or RespondentGroup(round_id=survey.id, code=group_in.code)
        changed = group.id is not None and group.instrument_id != instruments[group_in.code].id
        if changed and _group_in_use(session, group.id):
            raise Conflict(
                N_("Nhóm %(code)s đã có câu trả lời; không đổi được phiếu."),
                field="groups",
                code=group_in.code,
            )
        group.position = position
        group.name = dict(group_in.name)
        group.instrument_id = instruments[group_in.code].id
        group.rates = [level.value for level in group_in.rates]
        group.quota = group_in.quota
        group.quotas = dict(group_in.quotas)
        session.add(group)
    session.flush()
    session.refresh(survey, ["groups", "province"])
    audit.record(
        session,
        user_id=scope.user_id,
        action="par.round",
        entity=("survey_round", survey.code),
        before=before,
        after=as_mapping(survey),
        now=now,
    )
    return survey, created


def _check_quota_units(session: Session, province: Unit, group: GroupIn) -> None:
    if not group.quotas:
        return
    units = {
        u.code: u
        for u in session.scalars(
            select(Unit).where(Unit.code.in_(group.quotas), Unit.path.startswith(province.path))
        )
    }
    wrong = [c for c in group.quotas if c not in units or units[c].level not in group.rates]
    if wrong:
        raise InvalidInput(
            N_("Nhóm %(g)s: chỉ tiêu cho %(codes)s, không phải đơn vị nhóm này đánh giá."),
            field="groups",
            g=group.code,
            codes=", ".join(sorted(wrong)),
        )


def _group_in_use(session: Session, group_id: int) -> bool:
    links = select(RaterLink.id).where(RaterLink.group_id == group_id).limit(1)
    answers = select(Response.id).where(Response.group_id == group_id).limit(1)
    return session.scalar(links) is not None or session.scalar(answers) is not None


def as_mapping(survey: SurveyRound) -> dict[str, Any]:
    """A round in the file's shape (the editor, the download, the audit)."""
    return {
        "code": survey.code,
        "name": survey.name,
        "province": survey.province.code,
        "year": survey.year,
        "starts_on": survey.starts_on.isoformat(),
        "ends_on": survey.ends_on.isoformat(),
        "reminder_limit": survey.reminder_limit,
        "groups": [
            {
                "code": g.code,
                "name": dict(g.name),
                "instrument": g.instrument.code,
                "rates": list(g.rates),
                "quota": g.quota,
                **({"quotas": dict(g.quotas)} if g.quotas else {}),
            }
            for g in survey.groups
        ],
    }


def load_rounds(session: Session, scope: Scope, text: str, now: datetime) -> list[SurveyRound]:
    """Every round of a YAML/JSON file (one, a list, or ``rounds:``), all or none."""
    out = []
    for position, raw in enumerate(read_file(text, "rounds"), start=1):
        try:
            survey, _created = save_round(session, scope, raw, now)
        except InvalidInput as error:
            raise InvalidInput(
                N_("Đợt thứ %(n)s: %(reason)s"), field="file", n=position, reason=error.render()
            ) from None
        out.append(survey)
    return out


def list_rounds(session: Session, scope: Scope) -> list[SurveyRound]:
    return [
        r
        for r in session.scalars(
            select(SurveyRound)
            .options(selectinload(SurveyRound.groups), selectinload(SurveyRound.province))
            .order_by(SurveyRound.year.desc(), SurveyRound.code)
        )
        if scope.covers(r.province_id)
    ]


def get_round(session: Session, scope: Scope, code: str) -> SurveyRound:
    survey = session.scalar(
        select(SurveyRound)
        .options(selectinload(SurveyRound.groups), selectinload(SurveyRound.province))
        .where(SurveyRound.code == code)
    )
    if survey is None or not scope.covers(survey.province_id):
        raise NotFound(N_("Không tìm thấy đợt điều tra %(code)s."), code=code)
    return survey


# --- The invitation list -------------------------------------------------------------------

COLUMNS = {
    "group": ("group", "nhom", "nhóm", "ma_nhom"),
    "contact": ("contact", "lien_he", "liên hệ", "email", "phone", "so_dien_thoai"),
    "units": ("units", "unit", "don_vi", "đơn vị", "ma_don_vi"),
    "name": ("name", "ho_ten", "họ tên", "ten"),
    "channel": ("channel", "kenh", "kênh"),
}
UNIT_SEPARATORS = re.compile(r"[;,\s]+")


@dataclass(frozen=True)
class ListEntry:
    line: int
    group: RespondentGroup
    contact: str
    channel: InvitationChannel
    name: str
    units: tuple[Unit, ...]


@dataclass(frozen=True)
class ListImport:
    respondents: int  # new people on the list
    links: int  # new links (one per person and rated unit)
    unchanged: int  # links that were on the list already


def contact_of(text: str) -> tuple[str, bool] | None:
    """(normalised contact, is e-mail) of a phone number (Vietnam, E.164) or an e-mail address."""
    text = text.strip()
    if "@" in text:
        try:
            return validate_email(text, check_deliverability=False).normalized.lower(), True
        except EmailNotValidError:
            return None
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), False


def read_list(
    session: Session,
    survey: SurveyRound,
    filename: str,
    stream: IO[bytes] | None = None,
    limits: TableLimits | None = None,
) -> list[ListEntry]:
    """Every row of an invitation list, checked; InvalidInput naming the refused rows (nothing
    is stored from a list with any)."""
    table = open_table(filename, stream, limits)
    header = {_column_key(h): h for h in table.header}
    columns = {
        key: next((header[a] for a in names if a in header), None) for key, names in COLUMNS.items()
    }
    missing = [k for k in ("group", "contact", "units") if columns[k] is None]
    if missing:
        raise InvalidInput(
            N_("Danh sách cần các cột %(cols)s (có: %(have)s)."),
            field="file",
            cols=", ".join(missing),
            have=", ".join(table.header),
        )
    groups = {g.code: g for g in survey.groups}
    units = {
        u.code: u
        for u in session.scalars(
            select(Unit).where(Unit.path.startswith(survey.province.path), Unit.is_active)
        )
    }
    entries, problems = [], []
    for line, row in table.rows:

        def cell(key: str, row: dict[str, str] = row) -> str:
            column = columns[key]
            return (row.get(column) or "").strip() if column else ""

        if not any(v.strip() for v in row.values()):
            continue
        reasons = []
        group = groups.get(cell("group"))
        if group is None:
            reasons.append(f"nhóm '{cell('group')}' không có trong đợt ({', '.join(groups)})")
        contact = contact_of(cell("contact"))
        if contact is None:
            reasons.append(f"'{cell('contact')}' không phải số điện thoại hay e-mail hợp lệ")
        channel = _channel(cell("channel"), contact, reasons)
        codes = [c for c in UNIT_SEPARATORS.split(cell("units")) if c]
        rated = []
        if not codes:
            reasons.append("chưa ghi đơn vị được đánh giá")
        for code in codes:
            unit = units.get(code)
            if unit is None:
                reasons.append(f"không có đơn vị {code} trong tỉnh")
            elif group is not None and unit.level.value not in group.rates:
                reasons.append(
                    f"nhóm {group.code} không đánh giá đơn vị cấp {unit.level.value} ({code})"
                )
            else:
                rated.append(unit)
        name = cell("name")[:200]
        if reasons or group is None or contact is None or channel is None:
            problems.append(f"dòng {line}: " + "; ".join(reasons))
            continue
        entries.append(ListEntry(line, group, contact[0], channel, name, tuple(rated)))
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        raise InvalidInput(
            N_("Danh sách có %(n)s dòng không nhận được, không lưu dòng nào: %(problems)s"),
            field="file",
            n=len(problems),
            problems=" | ".join(shown) + (f" | … (+{more})" if more else ""),
        )
    if not entries:
        raise InvalidInput(N_("Danh sách không có dòng nào."), field="file")
    return entries


def _column_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_") if "_" in name else name.strip().lower()


def _channel(
    text: str, contact: tuple[str, bool] | None, reasons: list[str]
) -> InvitationChannel | None:
    if contact is None:
        return None
    if not text:
        return InvitationChannel.EMAIL if contact[1] else InvitationChannel.SMS
    try:
        channel = InvitationChannel(text.lower())
    except ValueError:
        reasons.append(f"kênh '{text}' không phải email, sms hay zalo")
        return None
    if (channel is InvitationChannel.EMAIL) != contact[1]:
        reasons.append(f"kênh {channel.value} không hợp với liên hệ {contact[0]}")
        return None
    return channel


def import_list(
    session: Session,
    scope: Scope,
    code: str,
    filename: str,
    stream: IO[bytes] | None,
    now: datetime,
    *,
    timezone: str,
    quiet: QuietHours | None = None,
    limits: TableLimits | None = None,
) -> ListImport:
    """Add an invitation list to a round: one person per group and contact, one single-use link
    per person and rated unit, queued to be sent from the round's first day (quiet hours kept).
    A person already on the list keeps their links; a list can be topped up."""
    scope.require(Permission.MANAGE_SETUP)
    survey = _open_round(session, scope, code)
    entries = read_list(session, survey, filename, stream, limits)
    due = _first_send(survey, now, timezone, quiet)
    people: dict[tuple[int, str], Respondent] = {
        (r.group_id, r.contact): r
        for r in session.scalars(
            select(Respondent).where(Respondent.group_id.in_([g.id for g in survey.groups]))
        )
    }
    have: set[tuple[int | None, int]] = set(
        session.execute(
            select(RaterLink.respondent_id, RaterLink.unit_id).where(
                RaterLink.respondent_id.in_([r.id for r in people.values()])
            )
        )
    )
    new_people = new_links = unchanged = 0
    for entry in entries:
        person = people.get((entry.group.id, entry.contact))
        if person is None:
            person = Respondent(
                group_id=entry.group.id,
                contact=entry.contact,
                channel=entry.channel,
                name=entry.name,
                created_at=now,
            )
            session.add(person)
            session.flush()
            people[(entry.group.id, entry.contact)] = person
            new_people += 1
        else:
            person.channel = entry.channel
            person.name = entry.name or person.name
        for unit in entry.units:
            if (person.id, unit.id) in have:
                unchanged += 1
                continue
            have.add((person.id, unit.id))
            session.add(
                RaterLink(
                    group_id=entry.group.id,
                    unit_id=unit.id,
                    respondent_id=person.id,
                    token=secrets.token_urlsafe(16),
                    status=InvitationStatus.QUEUED,
                    due_at=due,
                    created_at=now,
                    updated_at=now,
                )
            )
            new_links += 1
    session.flush()
    _audit(
        session,
        scope,
        survey,
        "par.round.list",
        {"respondents": new_people, "links": new_links, "unchanged": unchanged},
        now,
    )
    return ListImport(new_people, new_links, unchanged)


def _audit(
    session: Session,
    scope: Scope,
    survey: SurveyRound,
    action: str,
    after: dict[str, Any],
    now: datetime,
) -> None:
    audit.record(
        session,
        user_id=scope.user_id,
        action=action,
        entity=("survey_round", survey.code),
        before=None,
        after=after,
        now=now,
    )


def _open_round(session: Session, scope: Scope, code: str) -> SurveyRound:
    survey = get_round(session, scope, code)
    if survey.is_closed:
        raise Conflict(N_("Đợt %(code)s đã kết thúc."), field="round", code=survey.code)
    return survey


def _first_send(
    survey: SurveyRound, now: datetime, timezone: str, quiet: QuietHours | None
) -> datetime:
    """Now (after quiet hours), or 8:00 local on the round's first day if that is later."""
    start = datetime.combine(survey.starts_on, time(8, 0), ZoneInfo(timezone))
    return next_allowed(max(now, start.astimezone(now.tzinfo)), quiet, timezone)


def remind(session: Session, scope: Scope, code: str, now: datetime) -> int:
    """Queue a reminder on every link sent and not yet answered, up to the round's limit of
    reminders per link; how many were queued."""
    scope.require(Permission.MANAGE_SETUP)
    survey = _open_round(session, scope, code)
    done = session.execute(
        update(RaterLink)
        .where(
            RaterLink.group_id.in_([g.id for g in survey.groups]),
            RaterLink.used.is_(False),
            RaterLink.status == InvitationStatus.SENT,
            RaterLink.reminders < survey.reminder_limit,
        )
        .values(
            status=InvitationStatus.QUEUED,
            reminders=RaterLink.reminders + 1,
            attempts=0,
            due_at=now,
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    count = int(getattr(done, "rowcount", 0) or 0)
    _audit(session, scope, survey, "par.round.remind", {"reminders": count}, now)
    return count


def close_round(session: Session, scope: Scope, code: str, now: datetime) -> int:
    """Close a round: no more answers, and the invitation list (names, contacts, link tokens) is
    erased, so nothing links an answer to a person; how many people were erased. The counts of
    invited and answered per unit and group stay."""
    scope.require(Permission.MANAGE_SETUP)
    survey = _open_round(session, scope, code)
    group_ids = [g.id for g in survey.groups]
    session.execute(
        update(RaterLink)
        .where(RaterLink.group_id.in_(group_ids))
        .values(respondent_id=None, token=None, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(RaterLink)
        .where(RaterLink.group_id.in_(group_ids), RaterLink.status == InvitationStatus.QUEUED)
        .values(status=InvitationStatus.FAILED, error="đợt đã kết thúc"),
        execution_options={"synchronize_session": False},
    )
    erased = session.execute(
        delete(Respondent).where(Respondent.group_id.in_(group_ids)),
        execution_options={"synchronize_session": False},
    )
    survey.closed_at = now
    session.flush()
    count = int(getattr(erased, "rowcount", 0) or 0)
    _audit(session, scope, survey, "par.round.close", {"erased": count}, now)
    return count


# --- Progress ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """One cell of the who-rates-whom matrix: a unit as rated by a group."""

    unit: Unit
    group: RespondentGroup
    quota: int
    invited: int
    sent: int
    answered: int

    @property
    def share(self) -> int | None:
        """Answers as a whole percentage of the quota (None without a quota)."""
        return None if not self.quota else min(100, self.answered * 100 // self.quota)


def progress(session: Session, scope: Scope, code: str) -> list[Progress]:
    """Every unit a group of the round rates (by level), with its quota, the links sent and the
    answers, ordered by unit and group. Answers are counted from the responses, so they stay
    right after the list is erased."""
    survey = get_round(session, scope, code)
    levels = {level for g in survey.groups for level in g.rates}
    units = [
        u
        for u in session.scalars(
            select(Unit)
            .where(Unit.path.startswith(survey.province.path), Unit.level.in_(levels))
            .order_by(Unit.code)
        )
        if u.is_active and scope.covers(u.id)
    ]
    group_ids = [g.id for g in survey.groups]
    links: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for group_id, unit_id, status, n in session.execute(
        select(RaterLink.group_id, RaterLink.unit_id, RaterLink.status, func.count())
        .where(RaterLink.group_id.in_(group_ids))
        .group_by(RaterLink.group_id, RaterLink.unit_id, RaterLink.status)
    ):
        cell = links[(group_id, unit_id)]
        cell[0] += n
        if status == InvitationStatus.SENT:
            cell[1] += n
    answers = {
        (g, u): int(n)
        for g, u, n in session.execute(
            select(Response.group_id, Response.unit_id, func.count())
            .where(Response.group_id.in_(group_ids), Response.status == ResponseStatus.REPORTABLE)
            .group_by(Response.group_id, Response.unit_id)
        )
    }
    return [
        Progress(
            unit,
            group,
            group.quota_of(unit.code),
            links[(group.id, unit.id)][0],
            links[(group.id, unit.id)][1],
            answers.get((group.id, unit.id), 0),
        )
        for unit in units
        for group in survey.groups
        if unit.level.value in group.rates
    ]


# --- Answers for the PAR criteria ----------------------------------------------------------


def group_counts(
    session: Session,
    province: Unit,
    unit_ids: list[int],
    period: Period,
    instrument_code: str,
    group_codes: set[str],
) -> Mapping[str, Mapping[int, dict[int, dict[int, int]]]]:
    """Answer counts of the province's respondent groups in the period, by group code, unit
    (a merged unit's predecessors pooled into it), item and level, for one instrument code."""
    owner = {unit_id: unit_id for unit_id in unit_ids}
    for unit_id, before in lineage.predecessor_ids(session, unit_ids).items():
        owner.update(dict.fromkeys(before, unit_id))
    query = (
        select(RespondentGroup.code, Response.unit_id, Answer.item_id, Answer.value, func.count())
        .join(Response, Response.group_id == RespondentGroup.id)
        .join(SurveyRound, SurveyRound.id == RespondentGroup.round_id)
        .join(Instrument, Instrument.id == Response.instrument_id)
        .join(Answer, Answer.response_id == Response.id)
        .where(
            SurveyRound.province_id == province.id,
            RespondentGroup.code.in_(group_codes),
            Instrument.code == instrument_code,
            Response.status == ResponseStatus.REPORTABLE,
            Response.unit_id.in_(owner),
            Response.period.between(period.first_month, period.last_month),
            Answer.value.is_not(None),
        )
        .group_by(RespondentGroup.code, Response.unit_id, Answer.item_id, Answer.value)
    )
    out: dict[str, dict[int, dict[int, dict[int, int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(dict))
    )
    for group, unit_id, item_id, value, n in session.execute(query):
        if value is None:  # pragma: no cover - the query leaves text answers out
            continue
        cell = out[group][owner[unit_id]][item_id]
        cell[value] = cell.get(value, 0) + int(n)
    return out
