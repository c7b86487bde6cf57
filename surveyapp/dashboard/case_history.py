"""A case's history as sentences in the reader's language: who did what, with names and the
statuses' own words (the audit trail keeps ids and codes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext

from surveyapp.dashboard.labels import CASE_STATUS_LABELS
from surveyapp.models import CaseStatus
from surveyapp.services.feedback.cases import HistoryEntry

QUOTED = 300  # characters of a reply or note quoted in the history


@dataclass(frozen=True)
class Line:
    at: datetime
    text: str


def _status(value: object) -> str:
    try:
        return str(CASE_STATUS_LABELS[CaseStatus(str(value))])
    except ValueError:
        return str(value)


def _quote(value: object) -> str:
    text = str(value or "")
    return text if len(text) <= QUOTED else text[: QUOTED - 1] + "…"


def sentence(entry: HistoryEntry) -> str:
    who = entry.actor or gettext("Hệ thống")
    before, after = entry.before, entry.after
    if entry.action == "case.assign":
        if after.get("assignee_id"):
            name = entry.assignee or gettext("một cán bộ")
            return gettext("%(who)s giao xử lý cho %(name)s.", who=who, name=name)
        return gettext("%(who)s bỏ giao việc.", who=who)
    if entry.action == "case.status":
        return gettext(
            "%(who)s chuyển trạng thái từ “%(old)s” sang “%(new)s”.",
            who=who,
            old=_status(before.get("status")),
            new=_status(after.get("status")),
        )
    if entry.action == "case.reply":
        return gettext(
            "%(who)s trả lời người dân: “%(text)s”", who=who, text=_quote(after.get("reply"))
        )
    if entry.action == "case.note":
        return gettext("%(who)s ghi chú: “%(text)s”", who=who, text=_quote(after.get("note")))
    if entry.action == "case.transfer":
        return gettext(
            "%(who)s chuyển phản ánh từ %(old)s đến %(new)s: “%(text)s”",
            who=who,
            old=before.get("unit_name") or before.get("unit"),
            new=after.get("unit_name") or after.get("unit"),
            text=_quote(after.get("reason")),
        )
    if entry.action == "case.merge":
        return gettext(
            "%(who)s gộp phản ánh này vào phản ánh #%(n)s (trùng nội dung).",
            who=who,
            n=after.get("merged_into", "?"),
        )
    if entry.action == "case.merged":
        return gettext(
            "%(who)s gộp phản ánh trùng #%(n)s vào phản ánh này.", who=who, n=after.get("duplicate")
        )
    if entry.action in ("case.verdict", "case.reopen", "case.escalate"):
        said = (
            gettext("Người dân hài lòng với kết quả xử lý.")
            if after.get("verdict") == "satisfied"
            else gettext("Người dân không hài lòng với kết quả xử lý.")
        )
        if after.get("late"):
            said += " " + gettext("Người dân cho rằng trả lời trễ hạn.")
        if entry.action == "case.reopen":
            said += " " + gettext("Phản ánh được mở lại.")
        if entry.action == "case.escalate":
            said += " " + gettext(
                "Phản ánh được chuyển lên %(unit)s.", unit=after.get("escalated_to") or "—"
            )
        return said
    if entry.action == "case.retire":
        return gettext(
            "Hệ thống đóng phản ánh: đánh giá thấp ẩn danh, không kèm ý kiến, được tính vào tín "
            "hiệu đánh giá thấp của đơn vị thay vì hộp thư."
        )
    return gettext("%(who)s: %(action)s", who=who, action=entry.action)


def lines(entries: list[HistoryEntry]) -> list[Line]:
    return [Line(e.at, sentence(e)) for e in entries]
