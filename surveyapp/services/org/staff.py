"""The register of receiving officials (công chức tiếp nhận hồ sơ): staff code, name and unit,
optionally the dashboard account of the same person. Dossiers name their receiving official by
staff code; Thông tư 01 scores per official are kept on the register's rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from surveyapp.models import Dossier, Staff, Unit, User
from surveyapp.services import audit
from surveyapp.services.access import OUTSIDE, Permission, Scope
from surveyapp.services.collection.tables import Table
from surveyapp.services.errors import N_, InvalidInput
from surveyapp.services.rows import BadRow, ImportResult, RowError, columns_of, first_of
from surveyapp.services.validation import check_code, check_text, folded

COLUMNS = {
    "staff_code": ("staff_code", "code", "MaCanBo"),
    "name": ("name", "full_name", "HoTen"),
    "unit_code": ("unit_code", "MaDonVi"),
    "email": ("email", "account_email"),
    "active": ("active", "is_active"),
}
NO = {"0", "no", "false", "không", "khong", "ngừng", "ngung"}


def save_staff(
    session: Session,
    scope: Scope,
    *,
    code: str,
    name: str,
    unit: Unit,
    account_email: str = "",
    active: bool = True,
    now: datetime,
) -> Staff:
    """Create or update the register's row ``code`` (in scope, at a unit in scope); links the
    account of ``account_email`` when given (an account of a unit in scope)."""
    scope.require(Permission.MANAGE_USERS)
    code = check_code(code, "staff_code")
    name = check_text(name, "name", 200)
    if not name:
        raise InvalidInput(N_("Cần họ tên cán bộ."), field="name")
    if not scope.covers(unit.id):
        raise InvalidInput(OUTSIDE, field="unit_code", code=unit.code)
    staff = session.scalar(select(Staff).where(Staff.code == code))
    if staff is not None and not scope.covers(staff.unit_id):
        raise InvalidInput(
            N_("Mã cán bộ %(code)s đã thuộc một đơn vị ngoài phạm vi của bạn."),
            field="staff_code",
            code=code,
        )
    user_id = None
    if account_email.strip():
        user = session.scalar(select(User).where(User.email == account_email.strip().lower()))
        if user is None or not scope.covers(user.unit_id):
            raise InvalidInput(
                N_("Không có tài khoản %(email)s trong phạm vi của bạn."),
                field="email",
                email=account_email.strip()[:254],
            )
        user_id = user.id
        holder = session.scalar(select(Staff).where(Staff.user_id == user_id))
        if holder is not None and holder.code != code:
            raise InvalidInput(
                N_("Tài khoản này đã gắn với mã cán bộ %(code)s."), field="email", code=holder.code
            )
    before = _snapshot(staff) if staff is not None else None
    if staff is None:
        staff = Staff(code=code, name=name, unit_id=unit.id, user_id=user_id, is_active=active)
        session.add(staff)
    else:
        staff.name, staff.unit_id, staff.is_active = name, unit.id, active
        if account_email.strip():
            staff.user_id = user_id
    session.flush()
    after = _snapshot(staff)
    if after != before:
        audit.record(
            session,
            user_id=scope.user_id,
            action="staff.save",
            entity=("staff", code),
            before=before,
            after=after,
            now=now,
        )
    return staff


def _snapshot(staff: Staff) -> dict[str, object]:
    return {
        "name": staff.name,
        "unit_id": staff.unit_id,
        "user_id": staff.user_id,
        "active": staff.is_active,
    }


def load_staff(session: Session, table: Table, scope: Scope, now: datetime) -> ImportResult:
    """Rows ``staff_code,name,unit_code[,email][,active]`` into the register; dossiers that
    already name a staff code now registered are linked to it."""
    result = ImportResult()
    names = columns_of(table.header, COLUMNS)
    missing = [c for c in ("staff_code", "name", "unit_code") if c not in names]
    if missing:
        result.errors.append(RowError(1, f"thiếu cột: {', '.join(missing)}"))
        return result
    units = {u.code: u for u in session.scalars(select(Unit))}
    seen: set[str] = set()
    for line, row in table.rows:
        values = {key: first_of(row, names, key) for key in COLUMNS}
        try:
            unit = units.get(values["unit_code"])
            if unit is None:
                raise BadRow(f"không có đơn vị '{values['unit_code'][:40]}'")
            if values["staff_code"] in seen:
                raise BadRow(f"mã cán bộ '{values['staff_code'][:40]}' lặp lại trong tệp")
            seen.add(values["staff_code"])
            existed = session.scalar(select(Staff.id).where(Staff.code == values["staff_code"]))
            save_staff(
                session,
                scope,
                code=values["staff_code"],
                name=values["name"],
                unit=unit,
                account_email=values["email"],
                active=folded(values["active"]) not in NO,
                now=now,
            )
            result.added += existed is None
            result.already_present += existed is not None
        except InvalidInput as error:
            result.errors.append(RowError(line, error.render().rstrip(".")))
        except BadRow as reason:
            result.errors.append(RowError(line, str(reason)))
    if result.ok:
        link_dossiers(session)
    return result


def link_dossiers(session: Session) -> None:
    """Dossiers naming a staff code that the register now has point at its row."""
    known = select(Staff.id).where(Staff.code == Dossier.staff_code).scalar_subquery()
    session.execute(
        update(Dossier)
        .where(Dossier.staff_id.is_(None), Dossier.staff_code.in_(select(Staff.code)))
        .values(staff_id=known),
        execution_options={"synchronize_session": False},
    )


def list_staff(session: Session, scope: Scope, text: str = "", limit: int = 500) -> list[Staff]:
    """The register's rows in scope, by unit and code; ``text`` matches code or name, ignoring
    case and diacritics."""
    rows = session.scalars(
        select(Staff)
        .options(joinedload(Staff.unit), joinedload(Staff.user))
        .join(Staff.unit)
        .where(scope.where(Staff.unit_id))
        .order_by(Unit.path, Staff.code)
    )
    wanted = folded(text.strip())
    return [s for s in rows if wanted in folded(f"{s.code} {s.name}")][:limit]
