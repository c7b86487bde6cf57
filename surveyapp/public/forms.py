"""The survey form, built from an instrument's definition (one class per instrument version)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Optional, Regexp

from surveyapp.caching import Caches
from surveyapp.models import ItemKind
from surveyapp.services.collection.submissions import TEXT_TOO_LONG


class FormItem(Protocol):
    """What a survey form needs of a question (a published item, or its snapshot)."""

    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> ItemKind: ...
    @property
    def is_required(self) -> bool: ...
    def allowed_values(self) -> AbstractSet[int]: ...


class FormInstrument(Protocol):
    """What a survey form needs of an instrument (a published one, or its snapshot)."""

    @property
    def id(self) -> int: ...
    @property
    def source_hash(self) -> str: ...
    @property
    def items(self) -> Sequence[FormItem]: ...


KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
BAD_CHOICE = -1


def to_int(value: Any) -> int:
    """Coerce a posted choice; anything not a small integer becomes an invalid choice."""
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 2 else BAD_CHOICE


def field_name(item_code: str) -> str:
    return f"q_{item_code}"


class SurveyFormBase(FlaskForm):
    idempotency_key = HiddenField(
        validators=[InputRequired(), Regexp(KEY_PATTERN.pattern, message=_l("Phiếu không hợp lệ."))]
    )
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill it.
    website = StringField(validators=[Optional()])
    dossier_code = StringField(
        validators=[Optional(), Length(max=60, message=_l("Mã hồ sơ dài tối đa 60 ký tự."))],
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
    )
    comment = TextAreaField(validators=[Optional()])
    contact = StringField(
        validators=[Optional(), Length(max=200, message=_l("Thông tin liên hệ dài quá 200 ký tự."))]
    )

    item_codes: tuple[str, ...] = ()
    text_codes: frozenset[str] = frozenset()  # free-text items (the rest are choices)

    def item_field(self, code: str) -> Field:
        return self[field_name(code)]


def _item_field(item: FormItem) -> RadioField:
    values = sorted(item.allowed_values())
    required = (
        InputRequired(message=_l("Vui lòng chọn một câu trả lời."))
        if item.is_required
        else Optional()
    )
    return RadioField(
        coerce=to_int,
        validate_choice=False,
        validators=[required, AnyOf(values, message=_l("Lựa chọn không hợp lệ."))],
    )


def survey_form_class(instrument: FormInstrument, comment_max: int) -> type[SurveyFormBase]:
    """The form class for a published (hence immutable) instrument version, built once and kept
    in the app's caches."""
    caches: Caches = current_app.extensions["surveyapp.caches"]
    return caches.remember(
        caches.forms,
        (instrument.source_hash, comment_max),
        lambda: _build_form_class(instrument, comment_max),
    )


def _build_form_class(instrument: FormInstrument, comment_max: int) -> type[SurveyFormBase]:
    items = instrument.items
    attrs: dict[str, Any] = {
        "item_codes": tuple(item.code for item in items),
        "text_codes": frozenset(item.code for item in items if item.kind is ItemKind.TEXT),
    }
    for item in items:
        if item.kind is ItemKind.TEXT:
            attrs[field_name(item.code)] = TextAreaField(
                validators=[Optional(), Length(max=comment_max)]
            )
        else:
            attrs[field_name(item.code)] = _item_field(item)
    attrs["comment"] = TextAreaField(
        validators=[
            Optional(),
            # WTForms fills in the typed length and the limit.
            Length(max=comment_max, message=_l(TEXT_TOO_LONG)),
        ]
    )
    return type(f"SurveyForm{instrument.id}", (SurveyFormBase,), attrs)


def posted_answers(
    formdata: Mapping[str, str], form_class: type[SurveyFormBase]
) -> dict[str, int | str]:
    """Item code → posted value, for the answered items; the form need not be bound.

    A choice that is not a small number stays in as an invalid choice: the service refuses it.
    """
    answers: dict[str, int | str] = {}
    for code in form_class.item_codes:
        value = formdata.get(field_name(code))
        if value is None or value == "":
            continue
        answers[code] = value if code in form_class.text_codes else to_int(value)
    return answers


class VerdictForm(FlaskForm):
    """The citizen's word on a published reply, at /tra-cuu with their receipt code."""

    code = HiddenField(validators=[InputRequired(), Length(min=8, max=20)])
    verdict = RadioField(
        _l("Bạn có hài lòng với kết quả xử lý không?"),
        choices=[
            SelectChoice("satisfied", _l("Hài lòng với kết quả xử lý")),
            SelectChoice("unsatisfied", _l("Không hài lòng với kết quả xử lý")),
        ],
        validators=[InputRequired(_l("Vui lòng chọn một câu trả lời."))],
    )
    late = BooleanField(_l("Trả lời trễ hạn"))
