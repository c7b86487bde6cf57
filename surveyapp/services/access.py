"""Who may see and do what: every query of officials' data is filtered here, by unit subtree.

admin sees everything; par_office and unit_manager see their unit and every unit below it;
counter_staff sees its own unit only. Asking for something outside the scope is NotFound (404),
so that its existence does not leak.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from surveyapp.models import Role, Unit, User
from surveyapp.services.errors import N_, InvalidInput, NotFound, ServiceError


class Forbidden(ServiceError):
    status_code = 403


class Permission(enum.StrEnum):
    VIEW_FEEDBACK = "view_feedback"
    HANDLE_CASES = "handle_cases"  # assign, note, reply, close
    FLAG_RESPONSES = "flag_responses"  # mark spam or test, and back
    MANAGE_COUNTERS = "manage_counters"
    MANAGE_USERS = "manage_users"
    ENTER_PAPER = "enter_paper"
    MANAGE_SETUP = "manage_setup"  # units, campaigns, service fields, instruments, imports
    WRITE_DOSSIERS = "write_dossiers"  # dossier intake: files, and the intake tokens


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PAR_OFFICE: frozenset(Permission),
    Role.UNIT_MANAGER: frozenset(
        {
            Permission.VIEW_FEEDBACK,
            Permission.HANDLE_CASES,
            Permission.MANAGE_COUNTERS,
            Permission.MANAGE_USERS,
            Permission.ENTER_PAPER,
        }
    ),
    Role.COUNTER_STAFF: frozenset({Permission.VIEW_FEEDBACK}),
}

# Roles a user may give to others: never more than its own.
ASSIGNABLE_ROLES: dict[Role, tuple[Role, ...]] = {
    Role.ADMIN: tuple(Role),
    Role.PAR_OFFICE: (Role.PAR_OFFICE, Role.UNIT_MANAGER, Role.COUNTER_STAFF),
    Role.UNIT_MANAGER: (Role.UNIT_MANAGER, Role.COUNTER_STAFF),
    Role.COUNTER_STAFF: (),
}


@dataclass(frozen=True)
class Scope:
    """The units a signed-in official may see and change (None: all of them) and what the role
    may do. ``user_id`` None is the command line, run by the server's operator."""

    user_id: int | None
    role: Role
    unit_ids: frozenset[int] | None
    grants: frozenset[Permission] | None = None  # None: the role's

    @classmethod
    def system(cls) -> Scope:
        """The command line and the demo loader: every unit, every permission."""
        return cls(None, Role.ADMIN, None)

    @classmethod
    def intake(cls, unit_ids: frozenset[int]) -> Scope:
        """An intake token's: writing dossiers of its subtree, nothing else."""
        return cls(None, Role.COUNTER_STAFF, unit_ids, frozenset({Permission.WRITE_DOSSIERS}))

    def including(self, unit_ids: Iterable[int]) -> Scope:
        """This scope grown by units created under it in the same transaction."""
        if self.unit_ids is None:
            return self
        return replace(self, unit_ids=self.unit_ids | frozenset(unit_ids))

    @property
    def may_create_roots(self) -> bool:
        """Only an admin may add a unit at the top of a tree (a province)."""
        return self.role is Role.ADMIN

    def can(self, permission: Permission) -> bool:
        return permission in (GRANTS[self.role] if self.grants is None else self.grants)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(N_("Vai trò của bạn không được phép thực hiện thao tác này."))

    def covers(self, unit_id: int | None) -> bool:
        return self.unit_ids is None or unit_id in self.unit_ids

    def require_unit(self, unit_id: int | None) -> None:
        if not self.covers(unit_id):
            raise NotFound(N_("Không tìm thấy."))

    def where(
        self,
        column: InstrumentedAttribute[int] | InstrumentedAttribute[int | None] | ColumnElement[int],
    ) -> ColumnElement[bool]:
        """A WHERE clause keeping rows of the scope's units."""
        if self.unit_ids is None:
            return true()
        return column.in_(sorted(self.unit_ids))


SYSTEM = Scope.system()
# Results in public (/cong-khai): every unit's published figures, and no permission at all.
PUBLIC = Scope(None, Role.COUNTER_STAFF, None, frozenset())
OUTSIDE = N_("Đơn vị %(code)s không thuộc phạm vi của bạn.")


def require_unit_placement(scope: Scope, code: str, unit: Unit | None, parent: Unit | None) -> None:
    """InvalidInput unless the scope may create (``unit`` None) or change unit ``code`` and put it
    under ``parent`` (None: at the top). Another official's unit is refused by name, as a row
    error of an upload would be; only an admin adds or moves a unit to the top of a tree."""
    if unit is not None and not scope.covers(unit.id):
        raise InvalidInput(OUTSIDE, field="code", code=code)
    if parent is None:
        if not scope.may_create_roots and (unit is None or unit.parent_id is not None):
            raise InvalidInput(
                N_("Chỉ quản trị hệ thống được tạo đơn vị cấp cao nhất (%(code)s)."),
                field="parent",
                code=code,
            )
    elif not scope.covers(parent.id):
        raise InvalidInput(OUTSIDE, field="parent", code=parent.code)


def scope_for(session: Session, user: User) -> Scope:
    if user.role is Role.ADMIN:
        return Scope(user.id, user.role, None)
    if user.role is Role.COUNTER_STAFF:
        return Scope(user.id, user.role, frozenset({user.unit_id}))
    unit = session.get_one(Unit, user.unit_id)
    ids = session.scalars(select(Unit.id).where(Unit.path.startswith(unit.path)))
    return Scope(user.id, user.role, frozenset(ids))


def visible_units(session: Session, scope: Scope) -> list[Unit]:
    return list(session.scalars(select(Unit).where(scope.where(Unit.id)).order_by(Unit.path)))


def get_visible_unit(session: Session, scope: Scope, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not scope.covers(unit.id):
        raise NotFound(N_("Không tìm thấy đơn vị %(code)s."), code=code)
    return unit


def transfer_target(session: Session, scope: Scope, source_unit_id: int, code: str) -> Unit:
    """The unit a case of ``source_unit_id`` (in scope) may be passed to: any other active unit
    of the same province, in the scope or not (the matter is another agency's). The case then
    leaves the sender's scope."""
    scope.require_unit(source_unit_id)
    source = session.get_one(Unit, source_unit_id)
    target = session.scalar(select(Unit).where(Unit.code == code))
    province = source.path.strip("/").split("/")[0]
    if target is None or not target.is_active or target.path.strip("/").split("/")[0] != province:
        raise InvalidInput(
            N_("Không có đơn vị %(code)s đang hoạt động trong tỉnh để chuyển đến."),
            field="unit",
            code=code,
        )
    if target.id == source.id:
        raise InvalidInput(N_("Phản ánh đã thuộc đơn vị này."), field="unit")
    return target


def transfer_targets(session: Session, scope: Scope, source_unit_id: int) -> list[Unit]:
    """The active units of the province a case of ``source_unit_id`` may be passed to."""
    scope.require_unit(source_unit_id)
    source = session.get_one(Unit, source_unit_id)
    province = "/" + source.path.strip("/").split("/")[0] + "/"
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.path.startswith(province), Unit.is_active.is_(True), Unit.id != source.id)
            .order_by(Unit.path)
        )
    )
