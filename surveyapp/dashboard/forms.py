"""Dashboard forms; choices that depend on the official's scope are set by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

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
