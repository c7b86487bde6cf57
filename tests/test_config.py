"""Configuration layers and the fail-fast check."""

from __future__ import annotations

import pytest

from surveyapp import create_app
from surveyapp.config import ConfigError, normalize_database_url


def test_production_refuses_to_start_without_secret_key(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SURVEYAPP_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "short")
    with pytest.raises(ConfigError):
        create_app()


def test_development_and_real_key_start(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SURVEYAPP_ENV_NAME", "development")
    app = create_app()
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path}/instance/surveyapp.db"
    monkeypatch.setenv("SURVEYAPP_ENV_NAME", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-random-secret-of-some-length")
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal/surveyapp")
    app = create_app()
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://app@db.internal/surveyapp"


def test_instance_config_file_is_read(tmp_path, monkeypatch) -> None:
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text("SECRET_KEY = 'from-the-instance-file-123'\n")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-instance-file-123"


def test_env_overrides_instance_file(tmp_path, monkeypatch) -> None:
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text("SECRET_KEY = 'from-the-instance-file-123'\n")
    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "from-the-environment-4567")
    monkeypatch.setenv("SURVEYAPP_COMMENT_MAX_LENGTH", "500")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment-4567"
    assert app.config["COMMENT_MAX_LENGTH"] == 500


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_forms(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected
