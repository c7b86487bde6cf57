"""The national catalogue as a province uses it: service fields (lĩnh vực, ``MaLinhVuc``) and
administrative procedures (thủ tục hành chính, ``MaTTHC``), created one by one or loaded from a
file, and the codes dossiers brought that the catalogue does not know yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from surveyapp.models import CatalogueAlias, Dossier, Procedure, ServiceField
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope
from surveyapp.services.collection.tables import Table
from surveyapp.services.errors import N_, Conflict, InvalidInput, NotFound
from surveyapp.services.rows import BadRow, ImportResult, RowError, columns_of, first_of
from surveyapp.services.validation import check_code, check_text, folded, new_code

# Our column names, then the national system's (DVCQG) for the same thing.
COLUMNS = {
    "field_code": ("field_code", "MaLinhVuc"),
    "field_name": ("field_name", "TenLinhVuc"),
    "field_name_en": ("field_name_en",),
    "procedure_code": ("procedure_code", "MaTTHC"),
    "procedure_name": ("procedure_name", "TenTTHC"),
    "procedure_name_en": ("procedure_name_en",),
}


def create_service_field(
    session: Session, scope: Scope, code: str, name_vi: str, name_en: str, now: datetime
) -> ServiceField:
    scope.require(Permission.MANAGE_SETUP)
    code = new_code(session, ServiceField.code, code)
    name_vi, name_en = check_text(name_vi, "name_vi", 200), check_text(name_en, "name_en", 200)
    name = {"vi": name_vi} | ({"en": name_en} if name_en else {})
    field = ServiceField(code=code, name=name)
    session.add(field)
    session.flush()
    _link_dossiers(session)
    audit.record(
        session,
        user_id=scope.user_id,
        action="field.create",
        entity=("field", code),
        before=None,
        after=name,
        now=now,
    )
    return field


def list_service_fields(session: Session) -> list[ServiceField]:
    return list(session.scalars(select(ServiceField).order_by(ServiceField.code)))


def find_field_id(session: Session, code: str) -> int | None:
    """The id of the service field ``code``, if there is one."""
    return session.scalar(select(ServiceField.id).where(ServiceField.code == code))


def load_catalogue(session: Session, table: Table, scope: Scope, now: datetime) -> ImportResult:
    """Create or update fields and procedures from rows naming a field (code and name) and,
    optionally, one of its procedures; our column names or the national ones (``MaLinhVuc``,
    ``TenLinhVuc``, ``MaTTHC``, ``TenTTHC``). Dossiers already holding a code that becomes known
    are linked to it."""
    scope.require(Permission.MANAGE_SETUP)
    result = ImportResult()
    names = columns_of(table.header, COLUMNS)
    if "field_code" not in names:
        result.errors.append(RowError(1, "thiếu cột field_code (hoặc MaLinhVuc)"))
        return result
    fields = {f.code: f for f in session.scalars(select(ServiceField))}
    procedures = {p.code: p for p in session.scalars(select(Procedure))}
    aliases = {(a.kind, a.code): a.target_code for a in list_aliases(session)}
    touched: set[str] = set()
    for line, row in table.rows:
        values = {key: first_of(row, names, key) for key in COLUMNS}
        try:
            field_code = check_code(values["field_code"], "field_code")
            _not_an_alias(aliases, "field", field_code)
            field = fields.get(field_code)
            field_name = _names(values["field_name"], values["field_name_en"], "field_name")
            if field is None:
                if not field_name:
                    raise BadRow(f"lĩnh vực mới {field_code} cần tên (field_name)")
                field = ServiceField(code=field_code, name=field_name)
                session.add(field)
                fields[field_code] = field
                result.added += 1
            elif field_name and field.name != field_name and field_code not in touched:
                field.name = field_name
            touched.add(field_code)
            if values["procedure_code"]:
                code = check_code(values["procedure_code"], "procedure_code")
                _not_an_alias(aliases, "procedure", code)
                name = _names(values["procedure_name"], values["procedure_name_en"], "procedure")
                procedure = procedures.get(code)
                if procedure is None:
                    if not name:
                        raise BadRow(f"thủ tục mới {code} cần tên (procedure_name)")
                    procedure = Procedure(service_field=field, code=code, name=name)
                    session.add(procedure)
                    procedures[code] = procedure
                    result.added += 1
                else:
                    procedure.service_field = field
                    if name:
                        procedure.name = name
                    result.already_present += 1
        except InvalidInput as error:
            result.errors.append(RowError(line, error.render().rstrip(".")))
        except BadRow as reason:
            result.errors.append(RowError(line, str(reason)))
    if result.ok:
        session.flush()
        linked = _link_dossiers(session)
        audit.record(
            session,
            user_id=scope.user_id,
            action="catalogue.load",
            entity=("catalogue", "file"),
            before=None,
            after={"added": result.added, "updated": result.already_present, "linked": linked},
            now=now,
        )
    return result


def _not_an_alias(aliases: dict[tuple[str, str], str], kind: str, code: str) -> None:
    if (kind, code) in aliases:
        raise BadRow(
            f"mã {code} đang được ánh xạ tới {aliases[kind, code]}; gỡ ánh xạ trước khi thêm mã"
        )


def _names(vi: str, en: str, field: str) -> dict[str, str]:
    vi, en = check_text(vi, field, 500), check_text(en, field, 500)
    return ({"vi": vi} if vi else {}) | ({"en": en} if en and vi else {})


def _link_dossiers(session: Session) -> int:
    """Fill the catalogue ids of dossiers whose codes the catalogue now knows; how many."""
    linked = 0
    for model, code_column, id_column in _KINDS.values():
        known = select(model.id).where(model.code == code_column).scalar_subquery()
        done = session.execute(
            update(Dossier)
            .where(id_column.is_(None), code_column.in_(select(model.code)))
            .values({id_column: known}),
            execution_options={"synchronize_session": False},
        )
        linked += int(getattr(done, "rowcount", 0) or 0)
    # A known procedure also names its field when the dossier did not.
    field_of = select(Procedure.service_field_id).where(Procedure.id == Dossier.procedure_id)
    session.execute(
        update(Dossier)
        .where(Dossier.service_field_id.is_(None), Dossier.procedure_id.isnot(None))
        .values(service_field_id=field_of.scalar_subquery()),
        execution_options={"synchronize_session": False},
    )
    return linked


# --- Aliases: a code dossiers carry, mapped to the catalogue entry it stands for -----------------

_KINDS: dict[str, tuple[Any, Any, Any]] = {
    "field": (ServiceField, Dossier.field_code, Dossier.service_field_id),
    "procedure": (Procedure, Dossier.procedure_code, Dossier.procedure_id),
}
NOT_IN_CATALOGUE = N_("Danh mục không có mã %(code)s.")


def list_aliases(session: Session) -> list[CatalogueAlias]:
    return list(
        session.scalars(
            select(CatalogueAlias)
            .options(joinedload(CatalogueAlias.service_field), joinedload(CatalogueAlias.procedure))
            .order_by(CatalogueAlias.kind, CatalogueAlias.code)
        )
    )


def resolve_aliases(session: Session, kind: str, codes: set[str]) -> dict[str, Any]:
    """The catalogue entries (fields or procedures) that the aliased ``codes`` stand for."""
    model = _KINDS[kind][0]
    target = CatalogueAlias.service_field_id if kind == "field" else CatalogueAlias.procedure_id
    found: dict[str, Any] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        rows = session.execute(
            select(CatalogueAlias.code, model)
            .join(model, model.id == target)
            .where(CatalogueAlias.kind == kind, CatalogueAlias.code.in_(chunk))
        )
        found.update((code, entry) for code, entry in rows)
    return found


def map_code(
    session: Session, scope: Scope, kind: str, code: str, target_code: str, now: datetime
) -> CatalogueAlias:
    """Map ``code``, which dossiers carry but the catalogue lacks, to the field or procedure
    ``target_code``: its dossiers, present and future, count under that entry."""
    scope.require(Permission.MANAGE_SETUP)
    if kind not in _KINDS:
        raise InvalidInput(N_("Loại mã không hợp lệ."), field="kind")
    model, code_column, id_column = _KINDS[kind]
    code = check_code(code, "code")
    target_code = check_code(target_code, "target")
    if session.scalar(select(model.id).where(model.code == code)) is not None:
        raise Conflict(N_("Mã %(code)s đã có trong danh mục."), field="code", code=code)
    target = session.scalar(select(model).where(model.code == target_code))
    if target is None:
        raise InvalidInput(NOT_IN_CATALOGUE, field="target", code=target_code)
    alias = session.scalar(
        select(CatalogueAlias).where(CatalogueAlias.kind == kind, CatalogueAlias.code == code)
    )
    before = {"target": alias.target_code} if alias else None
    if alias is None:
        alias = CatalogueAlias(kind=kind, code=code, created_at=now)
        session.add(alias)
    alias.service_field_id = target.id if kind == "field" else None
    alias.procedure_id = target.id if kind == "procedure" else None
    session.flush()
    session.execute(
        update(Dossier).where(code_column == code).values({id_column: target.id}),
        execution_options={"synchronize_session": False},
    )
    _link_dossiers(session)
    audit.record(
        session,
        user_id=scope.user_id,
        action="catalogue.alias",
        entity=(kind, code),
        before=before,
        after={"target": target_code},
        now=now,
    )
    return alias


def remove_alias(session: Session, scope: Scope, alias_id: int, now: datetime) -> None:
    """Undo a mapping: the code's dossiers are unknown again (listed for an official)."""
    scope.require(Permission.MANAGE_SETUP)
    alias = session.get(CatalogueAlias, alias_id)
    if alias is None:
        raise NotFound(N_("Không tìm thấy ánh xạ mã."))
    _, code_column, id_column = _KINDS[alias.kind]
    target = alias.target_code
    session.execute(
        update(Dossier).where(code_column == alias.code).values({id_column: None}),
        execution_options={"synchronize_session": False},
    )
    audit.record(
        session,
        user_id=scope.user_id,
        action="catalogue.unalias",
        entity=(alias.kind, alias.code),
        before={"target": target},
        after=None,
        now=now,
    )
    session.delete(alias)
    session.flush()


@dataclass(frozen=True)
class UnknownCode:
    """A code dossiers carry that the catalogue lacks, with how many dossiers and a name seen."""

    kind: str  # "field" or "procedure"
    code: str
    dossiers: int
    name: str | None


def unknown_codes(session: Session, scope: Scope) -> list[UnknownCode]:
    """Field and procedure codes of dossiers in scope that no catalogue entry has: an official
    adds them (one by one or by a file) or maps them to an entry, and the dossiers are linked at
    once."""
    out: list[UnknownCode] = []
    for kind, (_, code_column, id_column) in _KINDS.items():
        rows = session.execute(
            select(code_column, func.count(), func.max(Dossier.procedure_name))
            .where(code_column.isnot(None), id_column.is_(None), scope.where(Dossier.unit_id))
            .group_by(code_column)
            .order_by(func.count().desc(), code_column)
        )
        out.extend(
            UnknownCode(kind, str(code), int(n), name if kind == "procedure" else None)
            for code, n, name in rows
        )
    return out


def search_procedures(session: Session, text: str, limit: int = 200) -> list[Procedure]:
    """Procedures whose code or name contains ``text``, ignoring case and diacritics ("ho tich"
    finds "Hộ tịch"); all of them, by code, when ``text`` is empty. A province's catalogue is a
    few thousand rows, so the match runs here rather than on two databases' text functions."""
    wanted = folded(text.strip())
    found = session.scalars(
        select(Procedure).options(joinedload(Procedure.service_field)).order_by(Procedure.code)
    )
    out = []
    for procedure in found:
        haystack = " ".join([procedure.code, *procedure.name.values()])
        if wanted in folded(haystack):
            out.append(procedure)
            if len(out) == limit:
                break
    return out
