"""Import direction: analysis is pure; models and services work without Flask."""

from __future__ import annotations

import pkgutil
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


def service_modules() -> list[str]:
    import surveyapp.services

    found = pkgutil.walk_packages(surveyapp.services.__path__, "surveyapp.services.")
    return sorted(name for _, name, _ in found)


def test_every_service_module_is_found() -> None:
    names = service_modules()
    assert "surveyapp.services.collection.submissions" in names
    assert "surveyapp.services.reporting.dashboards" in names
    assert len(names) > 30


@pytest.mark.parametrize("module", ["surveyapp.models", *service_modules()])
def test_models_and_services_import_without_flask(module: str) -> None:
    assert not loaded_after(module) & set(WEB)
