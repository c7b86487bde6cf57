"""Command-line interface: flask --app wsgi <command>."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from surveyapp.clock import now
from surveyapp.db import session_scope
from surveyapp.services import demo, responses, units

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    alembic_command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (e.g. -1 or base)."""
    alembic_command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="Short lower-case imperative.")
@click.option("--autogenerate/--empty", default=True)
def db_revision(message: str, autogenerate: bool) -> None:
    """Create a migration from the difference between the models and the database."""
    alembic_command.revision(
        alembic_config(current_app.config["DATABASE_URL"]),
        message=message,
        autogenerate=autogenerate,
    )


@db_group.command("check")
def db_check() -> None:
    """Fail if the models and the migrated database differ."""
    alembic_command.check(alembic_config(current_app.config["DATABASE_URL"]))


@db_group.command("current")
def db_current() -> None:
    """Show the database's revision."""
    alembic_command.current(alembic_config(current_app.config["DATABASE_URL"]))


@click.command("seed-demo")
@with_appcontext
@click.option("--responses", "count", default=2000, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=1, show_default=True, type=int)
def seed_demo_command(count: int, seed: int) -> None:
    """Create the demo province, counters, dossiers and COUNT synthetic responses (idempotent)."""
    with session_scope() as session:
        result = demo.seed_demo(
            session,
            responses=count,
            seed=seed,
            now=now(),
            timezone=current_app.config["TIMEZONE"],
        )
    click.echo(
        f"Dữ liệu mẫu: {result.units} đơn vị, {result.counters} quầy, {result.dossiers} hồ sơ, "
        f"thêm {result.responses_added} phiếu trả lời."
    )


@click.command("counters")
@with_appcontext
def counters_command() -> None:
    """One line per counter: counter code, unit code, survey URL (tab-separated)."""
    base = current_app.config["BASE_URL"]
    with session_scope() as session:
        for counter in units.list_counters(session):
            token = counter.active_token
            if token is not None:
                click.echo(
                    f"{counter.code}\t{counter.unit.code}\t{units.survey_url(base, token.token)}"
                )


@click.command("stats")
@with_appcontext
def stats_command() -> None:
    """One line per unit with responses: unit code, number of reportable responses."""
    with session_scope() as session:
        for code, count in responses.count_reportable_by_unit(session):
            click.echo(f"{code}\t{count}")


def register_cli(app: Flask) -> None:
    for command in (db_group, seed_demo_command, counters_command, stats_command):
        app.cli.add_command(command)
