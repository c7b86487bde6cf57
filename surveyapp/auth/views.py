"""Sign-in with lockout, sign-out, password change, and the idle timeout."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from surveyapp.auth import bp
from surveyapp.auth.forms import LoginForm, PasswordForm
from surveyapp.clock import now
from surveyapp.db import get_session
from surveyapp.extensions import limiter, login_manager
from surveyapp.limits import address_hash
from surveyapp.models import User
from surveyapp.security import local_target
from surveyapp.services.accounts import officials
from surveyapp.services.errors import InvalidInput
from surveyapp.services.validation import parse_id


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    ident = parse_id(user_id.partition(".")[0])
    if ident is None:
        return None
    user = get_session().get(User, ident)
    if user is None or not user.is_active or user.get_id() != user_id:
        return None
    return user


@bp.before_app_request
def idle_timeout() -> ResponseReturnValue | None:
    """Sign out an official idle for longer than SESSION_IDLE_MINUTES."""
    if request.endpoint in ("static", None) or not current_user.is_authenticated:
        return None
    moment = now().timestamp()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]).total_seconds()
    seen = session.get("seen")
    if seen is not None and moment - float(seen) > idle:
        logout_user()
        session.pop("seen", None)
        flash(
            gettext("Phiên làm việc đã hết hạn do không hoạt động. Vui lòng đăng nhập lại."), "info"
        )
        return redirect(url_for("auth.login", next=request.full_path))
    session["seen"] = moment
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: str(current_app.config["LOGIN_LIMIT"]), methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        policy = officials.LoginPolicy(
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lockout=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
        )
        try:
            user = officials.authenticate(
                db, form.email.data, form.password.data, now(), policy, address_hash()
            )
        except officials.LoginFailed as error:
            db.commit()  # keep the failure count
            form.form_errors.append(error.render(gettext))
            status = 401
        else:
            db.commit()
            session.clear()
            login_user(user)
            session["seen"] = now().timestamp()
            return redirect(local_target(request.args.get("next"), url_for("dashboard.index")))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    db = get_session()
    officials.sign_out(db, db.get_one(User, current_user.id))
    db.commit()
    logout_user()
    session.clear()
    flash(gettext("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        user = db.get_one(User, current_user.id)
        try:
            officials.change_password(db, user, form.current.data, form.password.data, now())
        except InvalidInput as error:
            db.rollback()
            getattr(form, error.field or "current").errors.append(error.render(gettext))
            status = 422
        else:
            db.commit()
            login_user(user)  # the session id changed with the password
            flash(gettext("Đã đổi mật khẩu. Các phiên đăng nhập khác đã bị đăng xuất."), "success")
            return redirect(url_for("dashboard.index"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/password.html", form=form), status
