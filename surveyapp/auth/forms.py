"""Sign-in and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

REQUIRED = _l("Vui lòng nhập thông tin này.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Mật khẩu"), validators=[InputRequired(REQUIRED), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Mật khẩu hiện tại"), validators=[InputRequired(REQUIRED)])
    password = PasswordField(
        _l("Mật khẩu mới (ít nhất 10 ký tự)"),
        validators=[
            InputRequired(REQUIRED),
            Length(min=10, max=200, message=_l("Mật khẩu phải có từ 10 đến 200 ký tự.")),
        ],
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[
            InputRequired(REQUIRED),
            EqualTo("password", message=_l("Hai mật khẩu không khớp.")),
        ],
    )
