"""surveyapp: citizen satisfaction with public administrative services (SIPAS).

Importing the package stays light (models and services work without Flask); the app factory
imports the web layer when it is called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory."""
    from flask import Flask

    from surveyapp import assets, db, extensions, queue, security
    from surveyapp.config import load_config
    from surveyapp.json_provider import StrictJSONProvider
    from surveyapp.logging import configure_logging

    configure_logging(os.environ.get("SURVEYAPP_LOG_LEVEL", "INFO"))
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=os.environ.get("SURVEYAPP_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
    )
    app.json = StrictJSONProvider(app)
    load_config(app, test_config)

    import surveyapp.models  # noqa: F401  (complete metadata before the engine is used)

    if app.config["PROXY_FIX_X_FOR"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    db.init_app(app)
    queue.init_app(app)

    @app.before_request
    def allow_uploads() -> None:
        """Citizens' forms stay small (MAX_CONTENT_LENGTH); officials may upload files, and the
        one-stop system send batches of dossiers."""
        from flask import request

        if request.path.startswith("/dashboard/"):
            request.max_content_length = app.config["UPLOAD_MAX_BYTES"]
        elif request.path == "/api/v1/dossiers":
            request.max_content_length = app.config["INTAKE_MAX_BYTES"]

    security.init_app(app)  # before CSRF and the limiter read the form
    extensions.init_app(app)
    assets.init_app(app)

    from surveyapp import api, auth, dashboard, public
    from surveyapp.cli import register_cli
    from surveyapp.errors import register_error_handlers
    from surveyapp.security import IdConverter
    from surveyapp.templating import register_template_helpers

    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(api.bp)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    return app
