"""Demo data: a province with its units, counters, dossiers and synthetic responses.

Everything has a fixed code or key, so running it again adds only what is missing.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import (
    Campaign,
    Channel,
    Counter,
    Dossier,
    Instrument,
    InvitationStatus,
    Item,
    ItemKind,
    Procedure,
    RaterLink,
    Response,
    Role,
    ServiceField,
    Staff,
    Stream,
    Unit,
    UnitLevel,
    UnitLineage,
    User,
)
from surveyapp.services.access import SYSTEM, scope_for
from surveyapp.services.accounts.officials import create_user
from surveyapp.services.collection.submissions import Rules, Submission, accept_submission
from surveyapp.services.collection.targets import counter_target, dossier_target
from surveyapp.services.instruments.definitions import parse_definition
from surveyapp.services.instruments.publishing import load_builtin_instruments, publish_instrument
from surveyapp.services.intake.dossiers import IntakeOptions, Result, receive
from surveyapp.services.intake.records import MAX_BATCH
from surveyapp.services.org import lineage
from surveyapp.services.org.staff import save_staff
from surveyapp.services.org.units import save_counter, save_unit
from surveyapp.services.par import rater_links, rounds
from surveyapp.services.par import settings as par_settings
from surveyapp.services.periods import local_date

PROVINCE = ("AL", "Tỉnh An Lạc", "An Lac Province")
DEPARTMENTS = [
    ("AL.STP", "Sở Tư pháp"),
    ("AL.SKHDT", "Sở Kế hoạch và Đầu tư"),
    ("AL.STNMT", "Sở Tài nguyên và Môi trường"),
    ("AL.SXD", "Sở Xây dựng"),
]
DISTRICTS = [
    ("AL.TP", "Thành phố An Lạc", ["Phường Hòa Bình", "Phường Tân Thành", "Phường Bến Nghé"]),
    ("AL.DH", "Huyện Đông Hòa", ["Thị trấn Đông Hòa", "Xã Phước Lộc", "Xã Mỹ Hưng"]),
    ("AL.BM", "Thị xã Bình Minh", ["Phường Đông Xuyên", "Xã Tân Phú", "Xã An Khánh"]),
    ("AL.PD", "Huyện Phú Điền", ["Thị trấn Phú Điền", "Xã Long Điền", "Xã Hưng Đạo"]),
]
# Since 1 July 2025 local government has two tiers: the districts were abolished and their
# communes merged into larger communes and wards directly under the province; the province's
# Public Administration Service Centre receives dossiers for all of them (Nghị định
# 118/2025/NĐ-CP). The districts and their communes stay as history, linked to their successors.
MERGED_ON = date(2025, 7, 1)
CENTRE = ("AL.TTPV", "Trung tâm Phục vụ hành chính công tỉnh An Lạc")
NEW_COMMUNES = [  # code, name, the district whose communes (and desk) it took over
    ("AL.PAL", "Phường An Lạc", "AL.TP"),
    ("AL.XDH", "Xã Đông Hòa", "AL.DH"),
    ("AL.PBM", "Phường Bình Minh", "AL.BM"),
    ("AL.XPD", "Xã Phú Điền", "AL.PD"),
]
FIELDS = [
    ("HT", "Hộ tịch", "Civil status", ["Đăng ký khai sinh", "Đăng ký kết hôn"]),
    ("CT", "Chứng thực", "Certification", ["Chứng thực bản sao từ bản chính"]),
    ("DD", "Đất đai", "Land", ["Cấp giấy chứng nhận quyền sử dụng đất", "Đăng ký biến động"]),
    ("XD", "Xây dựng", "Construction", ["Cấp giấy phép xây dựng nhà ở riêng lẻ"]),
    ("KD", "Đăng ký kinh doanh", "Business registration", ["Đăng ký hộ kinh doanh"]),
]
COMMENTS = [
    "Cán bộ hướng dẫn rất tận tình, cảm ơn.",
    "Phải chờ khá lâu, nên bố trí thêm ghế ngồi.",
    "Thủ tục còn rườm rà, phải bổ sung giấy tờ nhiều lần.",
    "Nơi gửi xe chật, trời nắng không có mái che.",
    "Trả kết quả trễ hẹn 3 ngày mà không được báo trước.",
    "Rất hài lòng, làm nhanh gọn.",
    "Đề nghị niêm yết rõ phí, lệ phí.",
]


Answers = dict[str, int | str]


@dataclass(frozen=True)
class DemoResult:
    units: int
    counters: int
    dossiers: int
    responses_added: int
    ratings_added: int  # Thông tư 01 ratings
    par_answers: int = 0  # PAR sociological survey answers of the respondent groups


def seed_demo(
    session: Session, *, responses: int, seed: int, now: datetime, rules: Rules
) -> DemoResult:
    """Create (or complete) the demo province and ``responses`` synthetic responses, each sent
    through the same service as a citizen's (answers checked, rollup, cases, flags)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    builtins = {i.code: i for i in load_builtin_instruments(session, now)}
    instrument = builtins["COUNTER"]
    units, history = _seed_units(session)
    merged = session.scalar(select(UnitLineage.id).limit(1)) is not None
    for u in units if merged else units + history:  # the history's counters moved on
        save_counter(session, SYSTEM, u, f"{u.code}-Q1", "Quầy tiếp nhận số 1", now)
    earlier = 0
    if not merged:
        # 2025 until the merger: answers at the districts' and communes' own counters.
        old = _counters_of(session, history)
        earlier = responses // 4
        if earlier:
            past = _counter_campaign(session, instrument, units[0], MERGED_ON.year)
            start = datetime(MERGED_ON.year, 1, 1, 1, tzinfo=UTC)
            end = datetime.combine(MERGED_ON, datetime.min.time(), UTC) - timedelta(days=1)
            earlier = _seed_responses(
                session, instrument, past, old, [], earlier, seed, end, rules, start=start
            )
        _merge_units(session, now)
    counters = _counters_of(session, units)
    fields = _seed_fields(session)
    desks = _seed_staff(session, now)
    dossiers = _seed_dossiers(
        session, units, fields, desks, max(responses // 3, 40), now, rng, rules.timezone
    )
    campaign = _counter_campaign(session, instrument, units[0], now.year)
    added = earlier + _seed_responses(
        session,
        instrument,
        campaign,
        counters,
        dossiers,
        responses - responses // 4,
        seed,
        now,
        rules,
    )
    _seed_users(session, now)
    par_answers = _seed_par_round(session, now, seed, rules) if responses else 0
    _seed_par_schemes(session, now, with_groups=responses > 0)
    rated = (
        _seed_tt01(session, builtins["TT01"], units[0], dossiers, desks, seed, now, rules)
        if responses
        else 0
    )
    total_counters = session.scalar(select(func.count()).select_from(Counter)) or 0
    return DemoResult(
        len(units) + len(history), total_counters, len(dossiers), added, rated, par_answers
    )


DEMO_PASSWORD = "matkhau-demo-2026"  # noqa: S105 - printed for the demo, never for real data
DEMO_USERS = [
    ("admin@anlac.demo", Role.ADMIN, "AL", "Quản trị hệ thống"),
    ("cchc@anlac.demo", Role.PAR_OFFICE, "AL", "Phòng CCHC Sở Nội vụ"),
    ("lanhdao.dh@anlac.demo", Role.UNIT_MANAGER, "AL.XDH", "Lãnh đạo UBND xã Đông Hòa"),
    ("motcua.dh@anlac.demo", Role.COUNTER_STAFF, "AL.XDH", "Cán bộ một cửa Đông Hòa"),
]
# Receiving officials of the districts' one-stop desks, rated under Thông tư 01 (no sign-in
# needed for the demo: they get the demo password too).
DEMO_OFFICIALS = [
    ("nguyen.van.an@anlac.demo", "AL.XDH", "Nguyễn Văn An"),
    ("tran.thi.binh@anlac.demo", "AL.XDH", "Trần Thị Bình"),
    ("le.minh.chau@anlac.demo", "AL.PAL", "Lê Minh Châu"),
    ("pham.thu.dung@anlac.demo", "AL.PBM", "Phạm Thu Dung"),
    ("hoang.van.em@anlac.demo", "AL.XPD", "Hoàng Văn Em"),
]


def _seed_tt01(
    session: Session,
    instrument: Instrument,
    province: Unit,
    dossiers: list[Dossier],
    desks: dict[int, list[Staff]],
    seed: int,
    now: datetime,
    rules: Rules,
) -> int:
    """A Thông tư 01 rating (official stream, dossier link) for each returned dossier that an
    official of a district's desk received, not already rated."""
    rng = random.Random(seed * 104729 + 3)  # noqa: S311
    _seed_campaign(
        session,
        instrument,
        province,
        code=f"DEMO-{now.year}-TT01",
        name=f"Đánh giá giải quyết hồ sơ theo Thông tư 01 năm {now.year}",
        stream=Stream.OFFICIAL,
        min_n=10,
        year=now.year,
    )
    rated = set(session.scalars(select(Response.dossier_id).where(Response.dossier_id.isnot(None))))
    # Each official has a habit; late returns score 1 or 0 on the time indicators.
    habit = {u.id: rng.uniform(0.55, 0.95) for staff in desks.values() for u in staff}
    added = 0
    for dossier in dossiers:
        if dossier.id in rated or dossier.returned_at is None or dossier.staff_id is None:
            continue
        good = habit.get(dossier.staff_id or 0, 0.8)
        late = dossier.due_at is not None and dossier.returned_at > dossier.due_at
        points: dict[str, int | str] = {}
        for code in ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9"):
            if code in ("T1", "T2") and late:
                points[code] = 0 if code == "T1" else rng.choice([0, 1])
            elif code in ("T4", "T9") and rng.random() < 0.15:
                points[code] = 9  # does not apply
            else:
                points[code] = 2 if rng.random() < good else rng.choice([1, 1, 0])
        total = sum(int(v) for v in points.values() if v != 9)
        points["HL3"] = 3 if total >= 16 else (2 if total >= 11 else 1)
        moment = min(dossier.returned_at + timedelta(hours=rng.uniform(2, 72)), now)
        # The citizen's own path: the dossier's signed link, the official-stream campaign.
        accept_submission(
            session,
            target=dossier_target(session, dossier, moment, rules.timezone),
            channel=Channel.LINK,
            submission=Submission(idempotency_key=f"demo-tt01-{dossier.code}", answers=points),
            now=moment,
            rules=rules,
        )
        added += 1
    session.flush()
    return added


# The province's example of the PAR sociological survey: three respondent groups rate each
# department on the province's own questionnaire (instruments/examples/par_unit.yaml).
PAR_GROUPS = [
    ("CC", "Công chức", "Civil servants", 15),
    ("LD", "Lãnh đạo phòng", "Heads of offices", 5),
    ("DN", "Doanh nghiệp", "Businesses", 10),
]
# The departments' survey points: 10 from the citizens' SIPAS, 20 from the groups, weighted and
# scored answer by answer as the province's decision sets it.
PAR_GROUP_CRITERION = {
    "code": "DTXHH",
    "source": "SIPAS",
    "max_points": 20,
    "instrument": "PAR-UNIT",
    "groups": {"CC": 0.5, "LD": 0.2, "DN": 0.3},
    "answer_points": {4: 1, 3: 0.75, 2: 0.5, 1: 0},
}


def _seed_par_round(session: Session, now: datetime, seed: int, rules: Rules) -> int:
    """The year's PAR survey round with its three groups, a named list (demo addresses, marked
    sent) and answers from most of them through the respondents' own links; how many answers."""
    rng = random.Random(seed * 7919 + 11)  # noqa: S311
    folder = resources.files("surveyapp") / "instruments" / "examples"
    publish_instrument(session, parse_definition(folder.joinpath("par_unit.yaml").read_text()), now)
    code = f"DEMO-{now.year}-DTXHH"
    survey, _ = rounds.save_round(
        session,
        SYSTEM,
        {
            "code": code,
            "name": f"Điều tra xã hội học Chỉ số CCHC năm {now.year}",
            "province": PROVINCE[0],
            "year": now.year,
            "starts_on": date(now.year, 1, 1),
            "ends_on": date(now.year, 12, 31),
            "groups": [
                {
                    "code": g,
                    "name": {"vi": vi, "en": en},
                    "instrument": "PAR-UNIT",
                    "rates": ["department"],
                    "quota": quota,
                }
                for g, vi, en, quota in PAR_GROUPS
            ],
        },
        now,
    )
    group_ids = [g.id for g in survey.groups]
    answered_before = select(RaterLink.id).where(
        RaterLink.group_id.in_(group_ids), RaterLink.used.is_(True)
    )
    if survey.is_closed or session.scalar(answered_before.limit(1)) is not None:
        return 0  # seeded already
    lines = ["group,contact,units"]
    for g, _vi, _en, quota in PAR_GROUPS:
        for i in range(quota):
            lines.append(
                f"{g},{g.lower()}{i + 1:02d}@anlac.demo,{';'.join(c for c, _ in DEPARTMENTS)}"
            )
    rounds.import_list(
        session,
        SYSTEM,
        code,
        "danh-sach.csv",
        io.BytesIO("\n".join(lines).encode()),
        now,
        timezone=rules.timezone,
    )
    links = session.scalars(
        select(RaterLink)
        .where(RaterLink.group_id.in_(group_ids), RaterLink.used.is_(False))
        .order_by(RaterLink.id)
    ).all()
    today = local_date(now, rules.timezone)
    # Each department has a level of its own; about four in five of the invited answer.
    level = {c: rng.uniform(2.6, 3.7) for c, _ in DEPARTMENTS}
    answered = 0
    for link in links:
        link.status, link.sent_at, link.attempts = InvitationStatus.SENT, now, 1
        if link.token is None or rng.random() > 0.8:
            continue
        target = rater_links.target_of(session, link.token, today)
        mean = level[link.unit.code]
        answers: dict[str, int | str] = {
            item.code: max(1, min(4, round(rng.gauss(mean, 0.7))))
            for item in target.instrument.items
            if item.element is not None
        }
        rater_links.accept(
            session,
            target,
            Submission(idempotency_key=f"demo-par-{link.id}", answers=answers),
            now,
            rules,
        )
        answered += 1
    session.flush()
    return answered


def _seed_par_schemes(session: Session, now: datetime, with_groups: bool = False) -> None:
    """Demo PAR settings: 35 survey points of 100 for districts, 30 for communes and departments
    (for the departments 10 from the citizens and 20 from the PAR survey's groups, when it
    ran)."""
    admin = session.scalar(select(User).where(User.email == DEMO_USERS[0][0]))
    if admin is None:
        return
    scope = scope_for(session, admin)
    for level, survey in (
        (UnitLevel.DISTRICT, 35),
        (UnitLevel.COMMUNE, 30),
        (UnitLevel.DEPARTMENT, 30),
    ):
        criteria: list[dict[str, object]] = [
            {"code": "SXH", "source": "SIPAS", "max_points": survey}
        ]
        if level is UnitLevel.DEPARTMENT and with_groups:
            criteria = [{"code": "SXH", "source": "SIPAS", "max_points": 10}, PAR_GROUP_CRITERION]
        par_settings.save_scheme(
            session,
            scope,
            {
                "province": PROVINCE[0],
                "level": level.value,
                "year": now.year,
                "decision": "Cấu hình mẫu",
                "instrument": "COUNTER",
                "appraisal_max": 100 - survey,
                "criteria": criteria,
                "ranking_bands": [
                    {"label": "Tốt", "lower": 85},
                    {"label": "Khá", "lower": 75},
                    {"label": "Trung bình", "lower": 50},
                    {"label": "Yếu", "lower": 0},
                ],
            },
            now,
        )


def _seed_users(session: Session, now: datetime) -> None:
    for email, role, unit_code, name in DEMO_USERS:
        if session.scalar(select(User.id).where(User.email == email)) is None:
            create_user(
                session,
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                unit_code=unit_code,
                full_name=name,
                now=now,
            )


def _seed_units(session: Session) -> tuple[list[Unit], list[Unit]]:
    """The province as it is since 1 July 2025 (province, departments, the service centre, the
    new communes and wards), and its history (the districts and their former communes)."""
    province = save_unit(
        session, SYSTEM, PROVINCE[0], PROVINCE[1], UnitLevel.PROVINCE, None, PROVINCE[2]
    )
    units = [province]
    units += [
        save_unit(session, SYSTEM, c, n, UnitLevel.DEPARTMENT, province) for c, n in DEPARTMENTS
    ]
    units.append(save_unit(session, SYSTEM, CENTRE[0], CENTRE[1], UnitLevel.CENTRE, province))
    units += [
        save_unit(session, SYSTEM, c, n, UnitLevel.COMMUNE, province) for c, n, _ in NEW_COMMUNES
    ]
    history = []
    for code, name, communes in DISTRICTS:
        district = save_unit(session, SYSTEM, code, name, UnitLevel.DISTRICT, province)
        history.append(district)
        history += [
            save_unit(session, SYSTEM, f"{code}.X{i:02d}", commune, UnitLevel.COMMUNE, district)
            for i, commune in enumerate(communes, start=1)
        ]
    return units, history


def _counter_campaign(
    session: Session, instrument: Instrument, province: Unit, year: int
) -> Campaign:
    """The year's counter survey at every unit of the province (general stream)."""
    return _seed_campaign(
        session,
        instrument,
        province,
        code=f"DEMO-{year}-CHUNG",
        name=f"Khảo sát tại quầy năm {year}",
        stream=Stream.GENERAL,
        min_n=30,
        year=year,
    )


def _merge_units(session: Session, now: datetime) -> None:
    """1 July 2025: each district's communes, and its one-stop desk, merged into one new commune
    or ward (their counters, officials and open cases move with them)."""
    for new_code, _name, district in NEW_COMMUNES:
        communes = next(names for code, _, names in DISTRICTS if code == district)
        olds = [f"{district}.X{i:02d}" for i in range(1, len(communes) + 1)] + [district]
        for old_code in olds:
            lineage.link(
                session,
                SYSTEM,
                old_code=old_code,
                new_code=new_code,
                kind="merge",
                effective_on=MERGED_ON,
                now=now,
            )


def _counters_of(session: Session, units: list[Unit]) -> list[Counter]:
    return list(
        session.scalars(
            select(Counter).where(Counter.unit_id.in_([u.id for u in units])).order_by(Counter.code)
        )
    )


def _seed_fields(session: Session) -> list[ServiceField]:
    fields = []
    for code, vi, en, procedures in FIELDS:
        field = session.scalar(select(ServiceField).where(ServiceField.code == code))
        if field is None:
            field = ServiceField(code=code, name={"vi": vi, "en": en})
            session.add(field)
            for i, procedure in enumerate(procedures, start=1):
                field.procedures.append(Procedure(code=f"{code}.{i:02d}", name={"vi": procedure}))
        fields.append(field)
    session.flush()
    return fields


def _seed_staff(session: Session, now: datetime) -> dict[int, list[Staff]]:
    """The districts' receiving officials, with accounts and rows in the staff register."""
    desks: dict[int, list[Staff]] = {}
    for number, (email, unit_code, name) in enumerate(DEMO_OFFICIALS, start=1):
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(
                session,
                email=email,
                password=DEMO_PASSWORD,
                role=Role.COUNTER_STAFF,
                unit_code=unit_code,
                full_name=name,
                now=now,
            )
        staff = save_staff(
            session,
            SYSTEM,
            code=f"CB{number:03d}",
            name=name,
            unit=user.unit,
            account_email=email,
            now=now,
        )
        desks.setdefault(user.unit_id, []).append(staff)
    return desks


def _seed_dossiers(
    session: Session,
    units: list[Unit],
    fields: list[ServiceField],
    desks: dict[int, list[Staff]],
    count: int,
    now: datetime,
    rng: random.Random,
    timezone: str,
) -> list[Dossier]:
    """The one-stop system's dossiers, sent as it would send them: national field names,
    ``yyyyMMddHHmmss`` local dates, through the intake service."""
    zone = ZoneInfo(timezone)
    start = datetime(now.year, 1, 1, 1, tzinfo=UTC)
    span = max((now - start).total_seconds(), 3600.0)
    records: list[object] = []
    for i in range(1, count + 1):
        unit = units[1 + (i % (len(units) - 1))]
        received = start + timedelta(seconds=rng.uniform(0, span * 0.9))
        returned = min(received + timedelta(days=rng.randint(1, 8)), now)
        field = fields[i % len(fields)]
        desk = desks.get(unit.id)
        staff = desk[i % len(desk)] if desk else None

        def local(moment: datetime) -> str:
            return moment.astimezone(zone).strftime("%Y%m%d%H%M%S")

        records.append(
            {
                "MaHoSo": f"HS-{now.year}-{i:06d}",
                "DonViXuLy": unit.code,
                "MaLinhVuc": field.code,
                "MaTTHC": field.procedures[0].code,
                "TenTTHC": field.procedures[0].name["vi"],
                "LoaiDoiTuong": 2 if i % 7 == 0 else 1,
                "NgayTiepNhan": local(received),
                "NgayHenTra": local(received + timedelta(days=5)),
                "NgayTra": local(returned),
                "MaCanBoTiepNhan": staff.code if staff else None,
            }
        )
    options = IntakeOptions(statuses={}, timezone=timezone, source="demo")
    codes: list[str] = []
    for first in range(0, len(records), MAX_BATCH):
        batch = records[first : first + MAX_BATCH]
        result = receive(session, SYSTEM, batch, options, now)
        refused = [o for o in result.outcomes if o.result is Result.REFUSED]
        if refused:
            raise RuntimeError(f"demo dossier refused: {refused[0]}")
        codes.extend(o.code for o in result.outcomes if o.code)
    found = {d.code: d for d in session.scalars(select(Dossier).where(Dossier.code.in_(codes)))}
    return [found[c] for c in codes]


def _seed_campaign(
    session: Session,
    instrument: Instrument,
    province: Unit,
    *,
    code: str,
    name: str,
    stream: Stream,
    min_n: int,
    year: int,
) -> Campaign:
    """The year-long campaign ``code`` over the province, created if missing."""
    campaign = session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        campaign = Campaign(
            code=code,
            name=name,
            instrument=instrument,
            stream=stream,
            starts_on=date(year, 1, 1),
            ends_on=date(year, 12, 31),
            min_n=min_n,
        )
        campaign.units.append(province)
        session.add(campaign)
        session.flush()
    return campaign


def _seed_responses(
    session: Session,
    instrument: Instrument,
    campaign: Campaign,
    counters: list[Counter],
    dossiers: list[Dossier],
    count: int,
    seed: int,
    now: datetime,
    rules: Rules,
    start: datetime | None = None,
) -> int:
    """``count`` synthetic responses at ``counters`` between ``start`` (1 January of ``now``'s
    year by default) and ``now``, each through the citizen's own path."""
    prefix = f"demo-{seed}-" if start is None else f"demo-{seed}-{start.year}-"
    keys = [f"{prefix}{i:07d}" for i in range(count)]
    taken = set(
        session.scalars(
            select(Response.idempotency_key).where(Response.idempotency_key.like(f"demo-{seed}-%"))
        )
    )
    rated = set(session.scalars(select(Response.dossier_id).where(Response.dossier_id.isnot(None))))
    rng = random.Random(seed * 7919 + 1)  # noqa: S311
    # Each unit and each element has its own level, so dashboards show contrast.
    quality = {c.unit_id: rng.gauss(0, 0.55) for c in counters}
    element_shift = {e.id: rng.gauss(0, 0.35) for d in instrument.domains for e in d.elements}
    rating_items = [i for i in instrument.items if i.element_id is not None]
    overall = next(i for i in instrument.items if i.section == "overall")
    others = [i for i in instrument.items if i.kind is ItemKind.CHOICE]
    by_unit: dict[int, list[Dossier]] = {}
    for each in dossiers:
        by_unit.setdefault(each.unit_id, []).append(each)
    start = start or datetime(now.year, 1, 1, 1, tzinfo=UTC)
    span = max((now - start).total_seconds(), 3600.0)
    drawn: list[tuple[datetime, str, Counter, Channel, Answers, str | None, str | None]] = []
    for key in keys:
        counter = rng.choice(counters)
        moment = start + timedelta(seconds=rng.uniform(0, span))
        # Draw everything even for existing keys, so a larger N extends the same sequence.
        levels: dict[Item, int] = {}
        for item in rating_items:
            mean = 3.75 + quality[counter.unit_id] + element_shift[item.element_id or 0]
            level = min(5, max(1, round(rng.gauss(mean, 0.85))))
            levels[item] = 0 if rng.random() < 0.03 else level
        answered = [v for v in levels.values() if v]
        levels[overall] = min(
            5, max(1, round(sum(answered) / max(len(answered), 1) + rng.gauss(0, 0.4)))
        )
        for item in others:
            if rng.random() < 0.4:
                levels[item] = rng.choice(item.options or [])["value"]
        channel = rng.choices([Channel.QR, Channel.KIOSK, Channel.PAPER], [70, 20, 10])[0]
        comment = rng.choice(COMMENTS) if rng.random() < 0.1 else None
        candidates = by_unit.get(counter.unit_id, [])
        dossier: Dossier | None = (
            rng.choice(candidates) if candidates and rng.random() < 0.3 else None
        )
        if key in taken:
            continue
        if dossier is not None and (
            dossier.id in rated or dossier.returned_at is None or dossier.returned_at > moment
        ):
            dossier = None
        if dossier is not None:
            rated.add(dossier.id)
        answers: dict[str, int | str] = {item.code: level for item, level in levels.items()}
        drawn.append(
            (moment, key, counter, channel, answers, comment, dossier.code if dossier else None)
        )
    # A citizen's own path, in the order they came: answers checked, rollup, cases, flags.
    targets = {c.id: counter_target(session, c, start, rules.timezone) for c in counters}
    for moment, key, counter, channel, answers, comment, dossier_code in sorted(drawn):
        accept_submission(
            session,
            target=targets[counter.id],
            channel=channel,
            submission=Submission(
                idempotency_key=key, answers=answers, comment=comment, dossier_code=dossier_code
            ),
            now=moment,
            rules=rules,
        )
    session.flush()
    return len(drawn)
