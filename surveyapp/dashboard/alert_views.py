"""An official's alerts: what they subscribe to per unit, and the notifications they got."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from surveyapp.clock import now
from surveyapp.dashboard import bp
from surveyapp.dashboard.common import commit_or_form_error, scope
from surveyapp.dashboard.forms import SubscriptionForm
from surveyapp.dashboard.labels import ALERT_LABELS, DIGEST_LABELS
from surveyapp.db import get_session
from surveyapp.models import AlertKind, DigestFrequency
from surveyapp.services.access import visible_units
from surveyapp.services.alerts import subscriptions
from surveyapp.services.validation import parse_id


def _form() -> SubscriptionForm:
    form = SubscriptionForm()
    form.unit.choices = [
        (u.code, f"{u.code} — {u.name}") for u in visible_units(get_session(), scope())
    ]
    form.kinds.choices = [(k.value, str(ALERT_LABELS[k])) for k in AlertKind]
    form.digest.choices = [(d.value, str(DIGEST_LABELS[d])) for d in DigestFrequency]
    return form


@bp.route("/alerts", methods=["GET", "POST"])
def alerts() -> ResponseReturnValue:
    db = get_session()
    form = _form()
    code = 200
    if request.method == "POST":
        if form.validate_on_submit() and commit_or_form_error(
            form,
            lambda: subscriptions.save_subscription(
                db, scope(), form.unit.data, form.kinds.data or [], form.digest.data, now()
            ),
        ):
            flash(gettext("Đã lưu đăng ký nhận thông báo."), "success")
            return redirect(url_for("dashboard.alerts"), 303)
        code = 422
    return render_template(
        "dashboard/alerts.html",
        form=form,
        subscriptions=subscriptions.list_subscriptions(db, scope()),
        alert_labels=ALERT_LABELS,
        digest_labels=DIGEST_LABELS,
    ), code


@bp.post("/alerts/<id:subscription_id>/delete")
def delete_alert(subscription_id: int) -> ResponseReturnValue:
    db = get_session()
    subscriptions.remove_subscription(db, scope(), subscription_id)
    db.commit()
    flash(gettext("Đã hủy đăng ký."), "success")
    return redirect(url_for("dashboard.alerts"), 303)


@bp.route("/notifications", methods=["GET", "POST"])
def notifications() -> ResponseReturnValue:
    db = get_session()
    if request.method == "POST":
        subscriptions.mark_read(db, scope(), now())
        db.commit()
        return redirect(url_for("dashboard.notifications"), 303)
    return render_template(
        "dashboard/notifications.html",
        notifications=subscriptions.notifications(db, scope()),
        alert_labels=ALERT_LABELS,
        focus=parse_id(request.args.get("id")),
    )
