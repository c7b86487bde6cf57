"""Import direction: analysis is pure; models and services work without Flask."""

from __future__ import annotations

import subprocess
import sys

import pytest

WEB = ("flask", "flask_babel", "flask_wtf", "werkzeug")


def loaded_after(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_analysis_imports_no_web_or_database_code() -> None:
    assert not loaded_after("analysis") & {*WEB, "sqlalchemy", "surveyapp"}


@pytest.mark.parametrize(
    "module",
    [
        "surveyapp.models",
        "surveyapp.services.responses",
        "surveyapp.services.demo",
        "surveyapp.services.instruments",
        "surveyapp.services.units",
    ],
)
def test_models_and_services_import_without_flask(module: str) -> None:
    assert not loaded_after(module) & set(WEB)
