"""Extensions, created unbound and bound in create_app."""

from flask import Flask, request, session
from flask_babel import Babel, lazy_gettext
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from surveyapp.limits import ip_key

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = lazy_gettext("Vui lòng đăng nhập để tiếp tục.")
login_manager.login_message_category = "info"
# Limits are declared per view (survey submissions, sign-in); storage from RATELIMIT_STORAGE_URI.
# The default key is a keyed hash of the address: the storage never holds an IP address.
limiter = Limiter(key_func=ip_key)


def select_locale() -> str:
    """Vietnamese unless the visitor chose another supported language (?lang= or earlier choice)."""
    from flask import current_app

    supported = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in supported:
        session["lang"] = asked
        return str(asked)
    remembered = session.get("lang")
    if remembered in supported:
        return str(remembered)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories="translations",
    )
