"""Static files: versioned URLs cached for a year, the site icon, and compressed responses.

``url_for("static", filename=...)`` adds ``v``, a hash of the file's content, so a browser may keep
a file for a year (``immutable``) and still gets a changed one at once: its URL changes. A request
without the current ``v`` (an old page, a hand-typed address) is served with ``no-cache`` and an
ETag. Responses are compressed (zstd, Brotli or gzip, by what the browser accepts) by
Flask-Compress; ``COMPRESS_REGISTER = False`` leaves that to a reverse proxy in front of the app.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, Response, current_app, request, send_from_directory
from flask_compress import Compress

from surveyapp.caching import Caches

YEAR_SECONDS = 365 * 24 * 3600
compress = Compress()


def static_version(app: Flask, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256, or None for a file that does not exist."""
    folder = app.static_folder
    if folder is None:
        return None
    path = os.path.join(folder, filename)
    try:
        stat = os.stat(path)
    except OSError:
        return None
    caches: Caches = app.extensions["surveyapp.caches"]

    def digest() -> str:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()[:12]

    return caches.remember(caches.static_versions, (path, stat.st_mtime_ns, stat.st_size), digest)


def init_app(app: Flask) -> None:
    compress.init_app(app)

    @app.url_defaults
    def versioned_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = static_version(app, str(values["filename"]))
            if version:
                values["v"] = version

    @app.after_request
    def cache_static(response: Response) -> Response:
        # Runs before the compressor (after_request runs last-registered first).
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        if response.status_code == 200 and response.is_streamed:
            # The app's files are small: read them whole, so the compressor sends one complete
            # body (with its length and any algorithm) and the file is closed with the response.
            response.direct_passthrough = False
            response.make_sequence()
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args["v"] == static_version(app, filename):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR_SECONDS
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        return response

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """Browsers ask for /favicon.ico on every site; pages also link the SVG icon."""
        response = send_from_directory(
            current_app.static_folder or "", "favicon.ico", max_age=7 * 24 * 3600
        )
        response.cache_control.public = True
        return response
