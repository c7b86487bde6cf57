"""Dashboard forms; choices that depend on the official's scope are set by the view."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

REQUIRED = _l("Vui lòng nhập thông tin này.")


class NoteForm(FlaskForm):
    note = TextAreaField(
        _l("Ghi chú nội bộ"), validators=[InputRequired(REQUIRED), Length(max=4000)]
    )


class ReplyForm(FlaskForm):
    reply = TextAreaField(
        _l("Trả lời người dân (hiển thị khi tra cứu bằng mã tiếp nhận)"),
        validators=[InputRequired(REQUIRED), Length(max=4000)],
    )


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Giao cho"), validators=[Optional()], validate_choice=True)


class StatusForm(FlaskForm):
    status = SelectField(_l("Trạng thái"), validators=[InputRequired(REQUIRED)])


class TransferForm(FlaskForm):
    unit = SelectField(_l("Chuyển đến đơn vị"), validators=[InputRequired(REQUIRED)])
    reason = TextAreaField(
        _l("Lý do chuyển"), validators=[InputRequired(REQUIRED), Length(max=4000)]
    )


class SubscriptionForm(FlaskForm):
    unit = SelectField(
        _l("Đơn vị (và các đơn vị trực thuộc)"), validators=[InputRequired(REQUIRED)]
    )
    kinds = SelectMultipleField(_l("Báo cho tôi khi"), validators=[Optional()])
    digest = SelectField(_l("Bản tin định kỳ"), validators=[InputRequired(REQUIRED)])


class MergeForm(FlaskForm):
    into = IntegerField(
        _l("Gộp vào phản ánh số"),
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=2**31 - 1)],
    )


class CounterForm(FlaskForm):
    unit = SelectField(_l("Đơn vị"), validators=[InputRequired(REQUIRED)])
    code = StringField(
        _l("Mã quầy"),
        validators=[InputRequired(REQUIRED), Length(max=40)],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )
    name = StringField(_l("Tên quầy"), validators=[InputRequired(REQUIRED), Length(max=200)])


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(REQUIRED), Length(max=254)])
    full_name = StringField(_l("Họ và tên"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Vai trò"), validators=[InputRequired(REQUIRED)])
    unit = SelectField(_l("Đơn vị"), validators=[InputRequired(REQUIRED)])
    password = PasswordField(
        _l("Mật khẩu ban đầu (ít nhất 10 ký tự)"),
        validators=[InputRequired(REQUIRED), Length(max=200)],
    )


class UnitForm(FlaskForm):
    code = StringField(
        _l("Mã đơn vị"),
        validators=[InputRequired(REQUIRED), Length(max=40)],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )
    name = StringField(_l("Tên đơn vị"), validators=[InputRequired(REQUIRED), Length(max=200)])
    name_en = StringField(_l("Tên tiếng Anh"), validators=[Optional(), Length(max=200)])
    level = SelectField(_l("Cấp"), validators=[InputRequired(REQUIRED)])
    parent = SelectField(_l("Đơn vị cấp trên"), validators=[Optional()])


class FieldForm(FlaskForm):
    code = StringField(_l("Mã lĩnh vực"), validators=[InputRequired(REQUIRED), Length(max=40)])
    name_vi = StringField(
        _l("Tên (tiếng Việt)"), validators=[InputRequired(REQUIRED), Length(max=200)]
    )
    name_en = StringField(_l("Tên (tiếng Anh)"), validators=[Optional(), Length(max=200)])


class CampaignForm(FlaskForm):
    code = StringField(_l("Mã đợt khảo sát"), validators=[InputRequired(REQUIRED), Length(max=40)])
    name = StringField(_l("Tên"), validators=[InputRequired(REQUIRED), Length(max=200)])
    instrument = SelectField(_l("Phiếu khảo sát"), validators=[InputRequired(REQUIRED)])
    stream = SelectField(_l("Luồng"), validators=[InputRequired(REQUIRED)])
    starts_on = DateField(_l("Từ ngày"), validators=[InputRequired(REQUIRED)])
    ends_on = DateField(_l("Đến ngày"), validators=[InputRequired(REQUIRED)])
    units = SelectMultipleField(
        _l("Đơn vị (gồm các đơn vị cấp dưới)"), validators=[InputRequired(REQUIRED)]
    )
    min_n = IntegerField(
        _l("Cỡ mẫu tối thiểu để công bố"),
        default=30,
        validators=[InputRequired(REQUIRED), NumberRange(0, 100_000)],
    )
    margin = DecimalField(
        _l("Sai số e (công thức Yamane)"),
        default=Decimal("0.05"),
        places=3,
        validators=[InputRequired(REQUIRED), NumberRange(Decimal("0.001"), Decimal("0.5"))],
    )


class UploadForm(FlaskForm):
    file = FileField(_l("Tệp"), validators=[FileRequired(REQUIRED)])


class ImportForm(UploadForm):
    instrument = SelectField(_l("Phiếu khảo sát"), validators=[InputRequired(REQUIRED)])
    stream = SelectField(_l("Luồng"), validators=[InputRequired(REQUIRED)])
    period = StringField(
        _l("Kỳ (không bắt buộc): YYYY, YYYY-Qn hoặc YYYY-MM"),
        validators=[Optional(), Length(max=10)],
    )
    ignore_extra = BooleanField(_l("Bỏ qua các cột không thuộc phiếu"))
    keep_good = BooleanField(_l("Nhập các dòng đúng dù có dòng lỗi"))


class PaperForm(FlaskForm):
    counter = SelectField(_l("Quầy"), validators=[InputRequired(REQUIRED)])
    day = DateField(_l("Ngày trên phiếu"), validators=[InputRequired(REQUIRED)])


class ScoresExportForm(FlaskForm):
    unit = SelectField(_l("Đơn vị (các đơn vị trực thuộc)"), validators=[InputRequired(REQUIRED)])
    level = SelectField(_l("Cấp đơn vị"), validators=[InputRequired(REQUIRED)])
    period = StringField(_l("Kỳ báo cáo"), validators=[InputRequired(REQUIRED), Length(max=40)])
    stream = SelectField(_l("Luồng phiếu"))
    format = SelectField(_l("Định dạng"))
    appraisal = FileField(_l("Điểm thẩm định (CSV hoặc XLSX: unit_code, appraisal_points)"))


class ResponsesExportForm(FlaskForm):
    unit = SelectField(_l("Đơn vị"))
    period = StringField(_l("Kỳ báo cáo (để trống: mọi kỳ)"), validators=[Length(max=40)])
    format = SelectField(_l("Định dạng"))


class TokenForm(FlaskForm):
    name = StringField(
        _l("Tên (để nhận biết, ví dụ: Cổng thông tin tỉnh)"),
        validators=[InputRequired(REQUIRED), Length(max=100)],
    )


class IntakeTokenForm(FlaskForm):
    name = StringField(
        _l("Hệ thống dùng mã (ví dụ: Phần mềm một cửa điện tử)"),
        validators=[InputRequired(REQUIRED), Length(max=100)],
    )
    unit = SelectField(_l("Ghi hồ sơ của đơn vị (và các đơn vị trực thuộc)"))
    days = IntegerField(
        _l("Hiệu lực (ngày)"),
        default=365,
        validators=[InputRequired(REQUIRED), NumberRange(1, 3660)],
    )


class StaffForm(FlaskForm):
    code = StringField(
        _l("Mã cán bộ"),
        validators=[InputRequired(REQUIRED), Length(max=40)],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )
    name = StringField(_l("Họ và tên"), validators=[InputRequired(REQUIRED), Length(max=200)])
    unit = SelectField(_l("Đơn vị"))
    email = EmailField(_l("Tài khoản (email), nếu có"), validators=[Optional(), Length(max=254)])
    active = BooleanField(_l("Đang làm việc"), default=True)


class AliasForm(FlaskForm):
    """Map a code dossiers carry to the catalogue entry it stands for."""

    kind = StringField(_l("Loại"), validators=[AnyOf(["field", "procedure"])])
    code = StringField(_l("Mã"), validators=[InputRequired(REQUIRED), Length(max=60)])
    target = StringField(
        _l("Mã trong danh mục"), validators=[InputRequired(REQUIRED), Length(max=60)]
    )


class ParSchemeForm(FlaskForm):
    text = TextAreaField(
        _l("Cấu hình (YAML hoặc JSON)"),
        validators=[InputRequired(REQUIRED), Length(max=50_000)],
        render_kw={"rows": 22, "spellcheck": "false", "class": "code"},
    )


class RoundForm(FlaskForm):
    text = TextAreaField(
        _l("Đợt điều tra (YAML hoặc JSON)"),
        validators=[InputRequired(REQUIRED), Length(max=50_000)],
        render_kw={"rows": 24, "spellcheck": "false", "class": "code"},
    )


class PublishForm(FlaskForm):
    unit = SelectField(_l("Tỉnh"), validators=[InputRequired(REQUIRED)])
    level = SelectField(_l("Cấp đơn vị"), validators=[InputRequired(REQUIRED)])
    period = StringField(_l("Kỳ báo cáo"), validators=[InputRequired(REQUIRED), Length(max=40)])
    stream = SelectField(_l("Luồng phiếu"))
    reason = TextAreaField(
        _l("Lý do (bắt buộc khi công bố lại)"), validators=[Optional(), Length(max=2000)]
    )


class LineageForm(FlaskForm):
    kind = SelectField(_l("Loại thay đổi"), validators=[InputRequired(REQUIRED)])
    old_codes = StringField(
        _l("Mã đơn vị cũ (nhiều mã cách nhau bằng dấu phẩy khi sáp nhập)"),
        validators=[InputRequired(REQUIRED), Length(max=2000)],
    )
    new_codes = StringField(
        _l("Mã đơn vị mới (nhiều mã cách nhau bằng dấu phẩy khi chia tách)"),
        validators=[InputRequired(REQUIRED), Length(max=2000)],
    )
    effective_on = DateField(_l("Ngày hiệu lực"), validators=[InputRequired(REQUIRED)])


class ParUploadForm(FlaskForm):
    file = FileField(
        _l("Tệp cấu hình (.yaml, .yml hoặc .json)"), validators=[FileRequired(REQUIRED)]
    )


class DossierUploadForm(UploadForm):
    keep_good_rows = BooleanField(_l("Nhập các dòng đúng, bỏ qua dòng lỗi"))
