"""Static files: versioned URLs kept for a year, the site icon, compressed responses."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import make_app

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_pages_link_versioned_static_files_kept_for_a_year(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page)
    assert css, page
    kept = client.get(css.group(1))
    kept.close()
    assert kept.status_code == 200
    assert kept.cache_control.max_age == 365 * 24 * 3600
    assert kept.cache_control.immutable
    assert kept.cache_control.public
    # Without the current version (an old page, a typed address) the browser checks each time.
    stale = client.get("/static/css/app.css?v=000000000000")
    stale.close()
    assert stale.cache_control.no_cache
    assert not stale.cache_control.immutable


def test_an_edited_file_gets_a_new_url(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url)
    app.static_folder = str(tmp_path)
    (tmp_path / "x.js").write_text("one")
    with app.test_request_context():
        from flask import url_for

        first = url_for("static", filename="x.js")
        (tmp_path / "x.js").write_text("two, longer")
        second = url_for("static", filename="x.js")
    assert first != second
    assert second.startswith("/static/x.js?v=")
    app.extensions["surveyapp.engine"].dispose()


def test_the_site_icon_is_served(client: FlaskClient) -> None:
    with client.get("/favicon.ico") as icon:
        body = icon.get_data()
    assert icon.status_code == 200
    assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert body == (STATIC / "favicon.ico").read_bytes()
    assert icon.cache_control.max_age == 7 * 24 * 3600
    assert '<link rel="icon" href="/static/favicon.svg?v=' in client.get("/").get_data(as_text=True)


def test_pages_and_files_are_compressed_for_browsers_that_accept_it(client: FlaskClient) -> None:
    plain = client.get("/cong-khai")
    assert "Content-Encoding" not in plain.headers
    squeezed = client.get("/cong-khai", headers={"Accept-Encoding": "gzip"})
    assert squeezed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in squeezed.headers["Vary"]
    assert gzip.decompress(squeezed.data) == plain.data
    with client.get("/static/css/app.css", headers={"Accept-Encoding": "br"}) as css:
        body = css.get_data()
    assert css.headers["Content-Encoding"] == "br"
    assert brotli.decompress(body) == (STATIC / "css" / "app.css").read_bytes()


def test_compression_can_be_left_to_a_proxy(database_url: str) -> None:
    app: Flask = make_app(database_url, COMPRESS_REGISTER=False)
    page = app.test_client().get("/cong-khai", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in page.headers
    app.extensions["surveyapp.engine"].dispose()
