"""Command-line interface: flask --app wsgi <command>."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from surveyapp.clock import now
from surveyapp.db import session_scope
from surveyapp.models import Campaign, Counter, Dossier, Role, Stream, Unit, UnitLevel, User
from surveyapp.services import demo
from surveyapp.services.access import SYSTEM, get_visible_unit, scope_for
from surveyapp.services.accounts import api_tokens, officials
from surveyapp.services.collection import imports, rollup
from surveyapp.services.collection.submissions import Rules
from surveyapp.services.collection.tables import Table, TableLimits, open_table
from surveyapp.services.errors import DefinitionError, ServiceError
from surveyapp.services.exports import responses, scores
from surveyapp.services.instruments import definitions, publishing
from surveyapp.services.intake import files
from surveyapp.services.intake.dossiers import IntakeOptions
from surveyapp.services.invitations.settings import parse_quiet_hours
from surveyapp.services.org import catalogue, lineage, links, qr, staff, units
from surveyapp.services.par import publication, rounds
from surveyapp.services.par import settings as par_settings
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting import counts
from surveyapp.services.validation import parse_int

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    alembic_command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (e.g. -1 or base)."""
    alembic_command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="Short lower-case imperative.")
@click.option("--autogenerate/--empty", default=True)
def db_revision(message: str, autogenerate: bool) -> None:
    """Create a migration from the difference between the models and the database."""
    alembic_command.revision(
        alembic_config(current_app.config["DATABASE_URL"]),
        message=message,
        autogenerate=autogenerate,
    )


@db_group.command("check")
def db_check() -> None:
    """Fail if the models and the migrated database differ."""
    alembic_command.check(alembic_config(current_app.config["DATABASE_URL"]))


@db_group.command("current")
def db_current() -> None:
    """Show the database's revision."""
    alembic_command.current(alembic_config(current_app.config["DATABASE_URL"]))


@click.command("seed-demo")
@with_appcontext
@click.option("--responses", "count", default=2000, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=1, show_default=True, type=int)
def seed_demo_command(count: int, seed: int) -> None:
    """Create the demo province, counters, dossiers, COUNT synthetic responses and, unless COUNT
    is 0, Thông tư 01 ratings of the districts' dossiers (idempotent)."""
    with session_scope() as session:
        result = demo.seed_demo(
            session,
            responses=count,
            seed=seed,
            now=now(),
            rules=Rules.from_config(current_app.config),
        )
    click.echo(
        f"Dữ liệu mẫu: {result.units} đơn vị, {result.counters} quầy, {result.dossiers} hồ sơ, "
        f"thêm {result.responses_added} phiếu trả lời, {result.ratings_added} đánh giá hồ sơ "
        f"theo Thông tư 01 và {result.par_answers} phiếu điều tra xã hội học CCHC."
    )
    click.echo(
        "Tài khoản mẫu (mật khẩu "
        + demo.DEMO_PASSWORD
        + "): "
        + ", ".join(email for email, *_ in demo.DEMO_USERS)
    )


@click.command("counters")
@with_appcontext
def counters_command() -> None:
    """One line per counter: counter code, unit code, survey URL (tab-separated)."""
    base = current_app.config["BASE_URL"]
    with session_scope() as session:
        for counter in units.list_counters(session):
            token = counter.active_token
            if token is not None:
                click.echo(
                    f"{counter.code}\t{counter.unit.code}\t{units.survey_url(base, token.token)}"
                )


@click.command("stats")
@with_appcontext
def stats_command() -> None:
    """One line per unit with responses: unit code, number of reportable responses."""
    with session_scope() as session:
        for code, count in counts.count_reportable_by_unit(session):
            click.echo(f"{code}\t{count}")


def fail(messages: list[str] | str, code: int = 1) -> NoReturn:
    """Print problems (Vietnamese) to stderr and exit non-zero."""
    for message in [messages] if isinstance(messages, str) else messages:
        click.echo(f"Lỗi: {message}", err=True)
    raise SystemExit(code)


@click.command("load-instruments")
@with_appcontext
def load_instruments_command() -> None:
    """Publish the built-in instruments (SIPAS 2023, counter, SIPAS 2017, TT 01); idempotent."""
    with session_scope() as session:
        for instrument in publishing.load_builtin_instruments(session, now()):
            click.echo(f"{instrument.code}\tv{instrument.version}\t{len(instrument.items)} câu")


@click.command("load-instrument")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def load_instrument_command(path: str) -> None:
    """Validate a YAML or JSON instrument definition and publish it as a new version."""
    try:
        with session_scope() as session:
            instrument = publishing.publish_instrument(
                session, definitions.read_definition(path), now()
            )
            click.echo(
                f"Đã công bố {instrument.code} phiên bản {instrument.version} "
                f"({len(instrument.items)} câu)."
            )
    except DefinitionError as error:
        fail(error.problems)
    except ServiceError as error:
        fail(error.render())


@click.command("load-units")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def load_units_command(path: str) -> None:
    """Create or update the unit tree from a CSV with columns code,name,level,parent_code."""
    with session_scope() as session:
        try:
            result = imports.load_units(session, _load_table(path), SYSTEM)
        except ServiceError as error:
            fail(error.render())
        if not result.ok:
            session.rollback()
            fail([str(e) for e in result.errors] + ["không nạp dòng nào."])
    click.echo(f"Đã nạp {result.added} đơn vị mới, cập nhật {result.already_present} đơn vị.")


@contextmanager
def progress_bar(total: int | None, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, and the callback that moves it to ``done`` rows."""
    with click.progressbar(length=total or 0, label=label, file=sys.stderr, show_pos=True) as bar:
        last = 0

        def progress(done: int) -> None:
            nonlocal last
            bar.update(done - last)
            last = done

        yield progress


def _load_table(path: str) -> Table:
    try:
        return open_table(path, limits=TableLimits.from_config(current_app.config))
    except ServiceError as error:
        fail(error.render())


@click.command("load-lineage")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def load_lineage_command(path: str) -> None:
    """Merges, splits and renames of units from CSV/XLSX: old_code, new_code, effective_date
    (YYYY-MM-DD), kind (merge, split, rename); all rows or none."""
    table = _load_table(path)
    with session_scope() as session:
        result = lineage.load_lineage(session, SYSTEM, table, now())
        if not result.ok:
            fail([str(e) for e in result.errors] + ["không nạp dòng nào."])
    click.echo(f"Đã ghi {result.added} thay đổi đơn vị.")


@click.command("import-catalogue")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_catalogue_command(path: str) -> None:
    """Service fields and procedures from CSV/XLSX: field_code (MaLinhVuc), field_name
    (TenLinhVuc), procedure_code (MaTTHC), procedure_name (TenTTHC); all rows or none."""
    table = _load_table(path)
    with session_scope() as session:
        result = catalogue.load_catalogue(session, table, SYSTEM, now())
        if not result.ok:
            fail([str(e) for e in result.errors] + ["không nạp dòng nào."])
    click.echo(f"Đã thêm {result.added} mục, cập nhật {result.already_present} thủ tục.")


@click.command("load-par-scheme")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def load_par_scheme_command(path: str) -> None:
    """PAR settings from a YAML or JSON file: one scheme, a list, or ``schemes:`` (province,
    level, year, decision, instrument, appraisal_max, criteria, ranking_bands); all or none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"không đọc được {path}: {error}")
    with session_scope() as session:
        try:
            loaded = par_settings.load_schemes(session, SYSTEM, text, now())
        except ServiceError as error:
            fail([error.render(), "không nạp cấu hình nào."])
    for item in loaded:
        scheme = item.scheme
        verb = "Đã tạo" if item.created else "Đã cập nhật"
        click.echo(
            f"{verb} cấu hình {scheme.province.code} cấp {scheme.level.value} năm {scheme.year}"
            f" ({scheme.decision or 'chưa ghi quyết định'})."
        )


round_group = AppGroup("round", help="Đợt điều tra xã hội học CCHC (các nhóm đối tượng).")


@round_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def round_load_command(path: str) -> None:
    """Rounds from a YAML/JSON file (code, name, province, year, starts_on, ends_on, groups with
    code, name, instrument, rates, quota); all or none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"không đọc được {path}: {error}")
    with session_scope() as session:
        try:
            loaded = rounds.load_rounds(session, SYSTEM, text, now())
        except ServiceError as error:
            fail([error.render(), "không nạp đợt nào."])
        for survey in loaded:
            groups = ", ".join(g.code for g in survey.groups)
            click.echo(f"Đợt {survey.code} ({survey.province.code}, {survey.year}): nhóm {groups}.")


@round_group.command("invite")
@click.argument("code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def round_invite_command(code: str, path: str) -> None:
    """Add an invitation list (CSV/XLSX: group, contact, units[, name, channel]) to a round;
    the links are sent by the queue from the round's first day."""
    config = current_app.config
    with session_scope() as session:
        try:
            done = rounds.import_list(
                session,
                SYSTEM,
                code,
                path,
                None,
                now(),
                timezone=config["TIMEZONE"],
                quiet=parse_quiet_hours(config["INVITE_QUIET_HOURS"]),
                limits=TableLimits.from_config(config),
            )
        except ServiceError as error:
            fail([error.render(), "không lưu dòng nào."])
    current_app.extensions["surveyapp.queue"].send_invitations()
    click.echo(
        f"Đã thêm {done.respondents} người, {done.links} liên kết đánh giá "
        f"({done.unchanged} liên kết đã có)."
    )


@round_group.command("progress")
@click.argument("code")
@with_appcontext
def round_progress_command(code: str) -> None:
    """Answers against the quota per rated unit and group (tab-separated)."""
    with session_scope() as session:
        try:
            cells = rounds.progress(session, SYSTEM, code)
        except ServiceError as error:
            fail(error.render())
        click.echo("unit\tgroup\tquota\tinvited\tsent\tanswered")
        for c in cells:
            click.echo(
                f"{c.unit.code}\t{c.group.code}\t{c.quota}\t{c.invited}\t{c.sent}\t{c.answered}"
            )


@round_group.command("remind")
@click.argument("code")
@with_appcontext
def round_remind_command(code: str) -> None:
    """Remind everyone sent a link who has not answered (up to the round's reminder limit)."""
    with session_scope() as session:
        try:
            count = rounds.remind(session, SYSTEM, code, now())
        except ServiceError as error:
            fail(error.render())
    current_app.extensions["surveyapp.queue"].send_invitations()
    click.echo(f"Đã xếp {count} thư nhắc.")


@round_group.command("close")
@click.argument("code")
@with_appcontext
def round_close_command(code: str) -> None:
    """Close a round: no more answers; the invitation list (names, contacts, links) is erased."""
    with session_scope() as session:
        try:
            erased = rounds.close_round(session, SYSTEM, code, now())
        except ServiceError as error:
            fail(error.render())
    click.echo(f"Đã kết thúc đợt {code}; đã xóa danh sách {erased} người được mời.")


@click.command("import-staff")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_staff_command(path: str) -> None:
    """The register of receiving officials from CSV/XLSX: staff_code, name, unit_code, and
    optionally email (the official's dashboard account) and active; all rows or none."""
    table = _load_table(path)
    with session_scope() as session:
        result = staff.load_staff(session, table, SYSTEM, now())
        if not result.ok:
            fail([str(e) for e in result.errors] + ["không nạp dòng nào."])
    click.echo(f"Đã thêm {result.added} cán bộ, cập nhật {result.already_present} cán bộ.")


@click.command("import-dossiers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--all-or-nothing/--keep-good-rows",
    default=True,
    show_default=True,
    help="With refused rows: store nothing (default) or store the good rows.",
)
@with_appcontext
def import_dossiers_command(path: str, all_or_nothing: bool) -> None:
    """Dossiers from CSV/XLSX with our column names or the national ones (MaHoSo, DonViXuLy,
    NgayTiepNhan, …); upserted by dossier code, so importing a file again adds nothing."""
    table = _load_table(path)
    options = IntakeOptions.from_config(current_app.config, "file")
    with session_scope() as session:
        with progress_bar(table.total, "Đang nhập hồ sơ") as progress:
            try:
                queue = current_app.extensions["surveyapp.queue"]
                result = files.import_dossiers(
                    session, SYSTEM, table, options, now(), progress, queue.offer
                )
            except IntegrityError:
                fail("một hệ thống khác vừa ghi cùng hồ sơ; không nhập dòng nào, hãy chạy lại.")
        if result.errors and all_or_nothing:
            fail(
                [str(e) for e in result.errors]
                + [
                    f"{len(result.errors)} dòng lỗi: không nhập dòng nào (--keep-good-rows để "
                    "nhập các dòng đúng)."
                ]
            )
    if result.invited:
        current_app.extensions["surveyapp.queue"].send_invitations()  # for the workers
    for row_error in result.errors:
        click.echo(f"Bỏ qua {row_error}", err=True)
    for outcome in result.warned:
        for warning in outcome.warnings:
            click.echo(f"Lưu ý dòng {outcome.index}: {warning.message % warning.params}", err=True)
    counts = result.counts
    click.echo(
        f"Hồ sơ: {counts['created']} mới, {counts['updated']} cập nhật, "
        f"{counts['unchanged']} không đổi, {counts['refused']} bị từ chối."
    )


@click.command("create-intake-token")
@click.option("--unit", "unit_code", required=True, help="The unit whose subtree it writes.")
@click.option("--name", required=True, help="Which system uses it, e.g. 'Một cửa điện tử'.")
@click.option("--owner", required=True, help="E-mail of the PAR office official or admin.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3660))
@with_appcontext
def create_intake_token_command(unit_code: str, name: str, owner: str, days: int) -> None:
    """An intake token for POST /api/v1/dossiers; the secret is printed once."""
    with session_scope() as session:
        user = session.scalar(select(User).where(User.email == owner.strip().lower()))
        if user is None or not user.is_active:
            fail(f"không có tài khoản đang hoạt động '{owner[:100]}'.")
        try:
            scope = scope_for(session, user)
            unit = get_visible_unit(session, scope, unit_code)
            token, raw = api_tokens.create_intake_token(
                session, scope, name=name, unit=unit, days=days, now=now()
            )
        except ServiceError as error:
            fail(error.render())
        click.echo(raw)
        click.echo(
            f"Mã truy cập nhận hồ sơ cho {unit.code}, hết hạn {token.expires_at:%Y-%m-%d}. "
            "Mã chỉ hiện một lần.",
            err=True,
        )


@click.command("import-responses")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--instrument", "instrument_ref", required=True, help="CODE or CODE:VERSION")
@click.option("--period", help="Reporting period the rows must fall in: YYYY, YYYY-Qn, YYYY-MM.")
@click.option(
    "--stream", type=click.Choice([s.value for s in Stream]), default="official", show_default=True
)
@click.option("--campaign", "campaign_code", help="Campaign code to attach the responses to.")
@click.option("--ignore-extra-columns", is_flag=True, help="Skip columns that are not items.")
@click.option(
    "--all-or-nothing/--keep-good-rows",
    default=True,
    show_default=True,
    help="With bad rows: import nothing (default) or import the good rows.",
)
@with_appcontext
def import_responses_command(
    path: str,
    instrument_ref: str,
    period: str | None,
    stream: str,
    campaign_code: str | None,
    ignore_extra_columns: bool,
    all_or_nothing: bool,
) -> None:
    """Import responses from CSV or XLSX: unit_code, submitted_at, optional columns, item codes."""
    code, _, version = instrument_ref.partition(":")
    with session_scope() as session:
        try:
            number = parse_int(version) if version else None
            if version and (number is None or number < 1):
                fail(f"phiên bản '{version[:20]}' phải là số nguyên dương.")
            instrument = publishing.get_instrument(session, code, number)
            campaign = None
            if campaign_code:
                campaign = session.scalar(select(Campaign).where(Campaign.code == campaign_code))
                if campaign is None:
                    fail(f"không có đợt khảo sát '{campaign_code}'.")
            options = imports.ImportOptions(
                instrument=instrument,
                timezone=current_app.config["TIMEZONE"],
                scope=SYSTEM,
                now=now(),
                period=parse_period(period) if period else None,
                stream=Stream(stream),
                campaign=campaign,
                ignore_extra_columns=ignore_extra_columns,
            )
            table = open_table(path, limits=TableLimits.from_config(current_app.config))
        except ServiceError as error:
            fail(error.render())
        with progress_bar(table.total, "Đang nhập") as progress:
            try:
                result = imports.import_responses(session, table, options, progress)
            except ServiceError as error:
                session.rollback()
                fail(error.render())
        if result.errors and all_or_nothing:
            session.rollback()
            fail(
                [str(e) for e in result.errors]
                + [
                    f"{len(result.errors)} dòng lỗi: không nhập dòng nào (--keep-good-rows để "
                    "nhập các dòng đúng)."
                ]
            )
    for row_error in result.errors:
        click.echo(f"Bỏ qua {row_error}", err=True)
    click.echo(
        f"Đã nhập {result.added} phiếu; {result.already_present} phiếu đã có từ trước; "
        f"{len(result.errors)} dòng lỗi."
    )


@click.command("qr")
@click.argument("counter_code")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="FILE.png, FILE.svg or FILE.pdf (an A4 poster).",
)
@click.option("--kiosk", is_flag=True, help="Link to the kiosk page (/k/…) instead of /s/….")
@with_appcontext
def qr_command(counter_code: str, out: str, kiosk: bool) -> None:
    """Write a counter's QR code as PNG, SVG or a printable A4 PDF poster (by extension)."""
    kind = Path(out).suffix.lower().lstrip(".")
    with session_scope() as session:
        counter = session.scalar(select(Counter).where(Counter.code == counter_code))
        if counter is None or counter.active_token is None:
            fail(f"không có quầy '{counter_code}' đang hoạt động.")
        url = units.survey_url(
            current_app.config["BASE_URL"], counter.active_token.token, kiosk=kiosk
        )
        poster = qr.Poster(
            url=url,
            unit_name=counter.unit.name,
            counter_name=counter.name,
            status_url=units.status_url(current_app.config["BASE_URL"]),
        )
    try:
        Path(out).write_bytes(qr.render(kind, poster))
    except ServiceError as error:
        fail(error.render())
    click.echo(f"{out}\t{url}")


@click.command("dossier-link")
@click.argument("dossier_code")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the link's QR code (FILE.png or FILE.svg).",
)
@with_appcontext
def dossier_link_command(dossier_code: str, out: str | None) -> None:
    """Print the signed rating link of a dossier (for the receipt or an SMS)."""
    with session_scope() as session:
        dossier = session.scalar(select(Dossier).where(Dossier.code == dossier_code))
        if dossier is None:
            fail(f"không có hồ sơ '{dossier_code}'.")
        token = links.dossier_token(current_app.config["SECRET_KEY"], dossier)
        url = links.rating_url(current_app.config["BASE_URL"], token)
        unit_name = dossier.unit.name
    if out:
        kind = Path(out).suffix.lower().lstrip(".")
        poster = qr.Poster(url=url, unit_name=unit_name, counter_name=dossier_code)
        try:
            Path(out).write_bytes(qr.render(kind, poster))
        except ServiceError as error:
            fail(error.render())
    click.echo(url)


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_code", required=True, help="Code of the unit the user answers for.")
@click.option("--name", "full_name", default="", help="Full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(
    email: str, role: str, unit_code: str, full_name: str, password_stdin: bool
) -> None:
    """Create an official's account (the password is asked for unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope() as session:
            user = officials.create_user(
                session,
                email=email,
                password=password,
                role=Role(role),
                unit_code=unit_code,
                full_name=full_name,
                now=now(),
            )
            click.echo(f"Đã tạo tài khoản {user.email} ({role}, {unit_code}).")
    except ServiceError as error:
        fail(error.render())


@click.command("rebuild-rollups")
@with_appcontext
def rebuild_rollups_command() -> None:
    """Recompute the answer-count rollup from the raw answers and report what it fixed."""
    with session_scope() as session:
        repair = rollup.rebuild_rollups(session)
    click.echo(
        f"Đã tính lại {repair.cells} ô: thêm {repair.added}, sửa {repair.changed}, "
        f"bỏ {repair.removed}."
    )


@click.command("export-scores")
@click.option("--period", required=True, help="YYYY, YYYY-Qn or YYYY-MM")
@click.option("--level", required=True, type=click.Choice([lv.value for lv in UnitLevel]))
@click.option("--format", "kind", required=True, type=click.Choice(["csv", "xlsx"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option(
    "--appraisal",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV or XLSX with unit_code, appraisal_points.",
)
@click.option("--parent", "parent_code", help="Only units under this unit (default: the province).")
@click.option(
    "--stream",
    type=click.Choice([s.value for s in Stream] + ["all"]),
    default="official",
    show_default=True,
)
@with_appcontext
def export_scores_command(
    period: str,
    level: str,
    kind: str,
    out: str,
    appraisal: str | None,
    parent_code: str | None,
    stream: str,
) -> None:
    """Sociological survey scores for the PAR council: one row per unit."""
    with session_scope() as session:
        try:
            parsed = parse_period(period)
            parent = (
                units.get_unit(session, parent_code)
                if parent_code
                else session.scalars(
                    select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)
                ).first()
            )
            if parent is None:
                fail("chưa có đơn vị nào.")
            export = publication.scores_file(
                session,
                timezone=current_app.config["TIMEZONE"],
                scope=SYSTEM,
                parent=parent,
                level=UnitLevel(level),
                period=parsed,
                appraisal=scores.read_appraisal(
                    appraisal, limits=TableLimits.from_config(current_app.config)
                )
                if appraisal
                else None,
                generated_at=now(),
                stream=None if stream == "all" else Stream(stream),
            )
        except ServiceError as error:
            fail(error.render())
    scores.write_scores(export, out, kind)
    if export.note:
        click.echo(f"Lưu ý: {export.note}", err=True)
    if export.empty:
        click.echo(f"Lưu ý: {scores.ALL_EMPTY}", err=True)
    click.echo(f"{out}\t{len(export.scores.rows)} đơn vị")


@click.command("export-responses")
@click.option("--format", "kind", required=True, type=click.Choice(["csv", "xlsx"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--period", help="YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD..YYYY-MM-DD")
@click.option("--unit", "unit_code", help="Only this unit and the units below it.")
@with_appcontext
def export_responses_command(
    kind: str, out: str, period: str | None, unit_code: str | None
) -> None:
    """One row per reportable response, one column per item code; no personal data; streamed."""
    with session_scope() as session:
        try:
            export = responses.responses_export(
                session,
                scope=SYSTEM,
                period=parse_period(period) if period else None,
                unit=units.get_unit(session, unit_code) if unit_code else None,
                timezone=current_app.config["TIMEZONE"],
            )
        except ServiceError as error:
            fail(error.render())
        with click.progressbar(length=export.total, label="Đang xuất", file=sys.stderr) as bar:
            written = responses.write_responses(export, out, kind, bar.update)
    click.echo(f"{out}\t{written} phiếu")


@click.command("worker")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Worker threads (default: QUEUE_WORKERS)."
)
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run background jobs from the queue (SURVEYAPP_QUEUE_URL) until stopped: SIGTERM lets the
    running jobs finish, SIGINT (Ctrl-C) stops at once.

    Start as many as needed, on any machines that reach the database and the broker. Exports
    that a stopped worker left are taken over at start and then once a minute.
    """
    from surveyapp.queue import recover

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = app.extensions["surveyapp.queue"]
    recover(app, queue)
    consumer = queue.huey.create_consumer(
        workers=workers or queue.workers,
        worker_type="thread",
        max_delay=2.0,
        graceful_signal="TERM",  # what systemd and container runtimes send to stop a service
    )
    click.echo(f"Đang chạy {consumer.workers} luồng xử lý hàng đợi {queue.huey.name}.", err=True)
    consumer.run()


def register_cli(app: Flask) -> None:
    for command in (
        db_group,
        seed_demo_command,
        counters_command,
        stats_command,
        load_instruments_command,
        load_instrument_command,
        load_units_command,
        load_lineage_command,
        import_catalogue_command,
        import_staff_command,
        load_par_scheme_command,
        round_group,
        import_dossiers_command,
        create_intake_token_command,
        import_responses_command,
        qr_command,
        dossier_link_command,
        create_user_command,
        rebuild_rollups_command,
        export_scores_command,
        export_responses_command,
        worker_command,
    ):
        app.cli.add_command(command)
