"""Every label a dashboard page, file or report shows for a code: one map per kind, translated
where it is shown (the PDF report is drawn under the Vietnamese locale)."""

from __future__ import annotations

from flask_babel import lazy_gettext

from surveyapp.models import (
    AlertKind,
    CaseStatus,
    Channel,
    DigestFrequency,
    RespondentType,
    ResponseStatus,
    Role,
    Stream,
    UnitLevel,
    Verdict,
)
from surveyapp.models.job import JobStatus

ROLE_LABELS = {
    Role.ADMIN: lazy_gettext("Quản trị hệ thống"),
    Role.PAR_OFFICE: lazy_gettext("Phòng CCHC (Sở Nội vụ)"),
    Role.UNIT_MANAGER: lazy_gettext("Lãnh đạo đơn vị"),
    Role.COUNTER_STAFF: lazy_gettext("Cán bộ một cửa"),
}


CASE_STATUS_LABELS = {
    CaseStatus.NEW: lazy_gettext("Mới"),
    CaseStatus.ASSIGNED: lazy_gettext("Đã giao"),
    CaseStatus.IN_PROGRESS: lazy_gettext("Đang xử lý"),
    CaseStatus.ANSWERED: lazy_gettext("Đã trả lời"),
    CaseStatus.RESOLVED: lazy_gettext("Đã giải quyết"),
    CaseStatus.CLOSED: lazy_gettext("Đã đóng"),
}


ALERT_LABELS = {
    AlertKind.COMMENT: lazy_gettext("có ý kiến mới cần xử lý"),
    AlertKind.LOW_BURST: lazy_gettext("có nhiều đánh giá thấp trong một giờ"),
    AlertKind.DUE_SOON: lazy_gettext("phản ánh sắp đến hạn xử lý"),
    AlertKind.OVERDUE: lazy_gettext("phản ánh quá hạn xử lý"),
    AlertKind.DROP: lazy_gettext("chỉ số hài lòng giảm rõ rệt so với tháng trước"),
}


DIGEST_LABELS = {
    DigestFrequency.NONE: lazy_gettext("Không nhận"),
    DigestFrequency.WEEKLY: lazy_gettext("Hằng tuần (sáng thứ Hai)"),
    DigestFrequency.MONTHLY: lazy_gettext("Hằng tháng (ngày đầu tháng)"),
}


VERDICT_LABELS = {
    Verdict.SATISFIED: lazy_gettext("Hài lòng với kết quả xử lý"),
    Verdict.UNSATISFIED: lazy_gettext("Không hài lòng với kết quả xử lý"),
}


RESPONSE_STATUS_LABELS = {
    ResponseStatus.REPORTABLE: lazy_gettext("Hợp lệ"),
    ResponseStatus.SPAM: lazy_gettext("Rác"),
    ResponseStatus.TEST: lazy_gettext("Thử nghiệm"),
    ResponseStatus.DELETED: lazy_gettext("Đã xóa"),
}


FLAG_LABELS = {
    "rate": lazy_gettext("nhiều phiếu hơn hẳn thường lệ tại quầy trong ít phút"),
    "low_burst": lazy_gettext("nhiều phiếu đánh giá thấp liên tiếp tại quầy trong ít phút"),
    "burst": lazy_gettext("nhiều phiếu giống hệt nhau (quy tắc cũ)"),
    "official": lazy_gettext("do cán bộ gắn cờ"),
}


CHANNEL_LABELS = {
    Channel.QR: lazy_gettext("Mã QR tại quầy"),
    Channel.KIOSK: lazy_gettext("Máy tính bảng tại quầy"),
    Channel.LINK: lazy_gettext("Đường dẫn theo hồ sơ"),
    Channel.PAPER: lazy_gettext("Phiếu giấy"),
    Channel.IMPORT: lazy_gettext("Nhập từ tệp"),
}


RESPONDENT_LABELS = {
    RespondentType.INDIVIDUAL: lazy_gettext("Cá nhân"),
    RespondentType.ORGANISATION: lazy_gettext("Tổ chức"),
}


FUNNEL_LABELS = {
    "above": lazy_gettext("Cao hơn rõ rệt"),
    "warning-above": lazy_gettext("Cao hơn (cảnh báo)"),
    "within": lazy_gettext("Trong giới hạn"),
    "warning-below": lazy_gettext("Thấp hơn (cảnh báo)"),
    "below": lazy_gettext("Thấp hơn rõ rệt"),
}


STREAM_CHOICES = {
    Stream.OFFICIAL: lazy_gettext("Chính thức"),
    Stream.GENERAL: lazy_gettext("Góp ý chung"),
}


LEVEL_LABELS = {
    UnitLevel.PROVINCE: lazy_gettext("Tỉnh"),
    UnitLevel.DEPARTMENT: lazy_gettext("Sở, ngành"),
    UnitLevel.CENTRE: lazy_gettext("Trung tâm phục vụ hành chính công"),
    UnitLevel.DISTRICT: lazy_gettext("Huyện"),
    UnitLevel.COMMUNE: lazy_gettext("Xã"),
}


def level_choices() -> list[tuple[str, str]]:
    """Unit levels for a select."""
    return [(level.value, str(label)) for level, label in LEVEL_LABELS.items()]


def stream_choices() -> list[tuple[str, str]]:
    """Streams for a select, with "all" last."""
    return [(s.value, str(label)) for s, label in STREAM_CHOICES.items()] + [
        ("all", str(lazy_gettext("Tất cả")))
    ]


STREAM_LABELS = {
    Stream.OFFICIAL: lazy_gettext("Chính thức (gắn với hồ sơ)"),
    Stream.GENERAL: lazy_gettext("Góp ý chung tại quầy"),
}


JOB_LABELS = {
    JobStatus.QUEUED: lazy_gettext("Đang chờ"),
    JobStatus.RUNNING: lazy_gettext("Đang tạo tệp"),
    JobStatus.DONE: lazy_gettext("Đã xong"),
    JobStatus.FAILED: lazy_gettext("Không thành công"),
}
