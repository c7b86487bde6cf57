"""The app's caches: one set per app, bounded, emptied by the one rule."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.caching import Caches, caches_of
from surveyapp.models import Campaign, Instrument
from surveyapp.services.instruments.snapshots import instrument_view
from tests.conftest import make_app
from tests.factories import setup_counter


def test_two_apps_in_one_process_never_share_entries(tmp_path) -> None:
    import sqlalchemy as sa

    from surveyapp.db import Base

    urls = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        engine = sa.create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        urls.append(url)
    first, second = make_app(urls[0]), make_app(urls[1])
    try:
        assert first.extensions["surveyapp.caches"] is not second.extensions["surveyapp.caches"]
        with first.extensions["surveyapp.sessionmaker"]() as one:
            setup_counter(one)
            instrument = one.scalars(select(Instrument).where(Instrument.code == "COUNTER")).one()
            view = instrument_view(one, instrument.id, instrument.source_hash)
            assert caches_of(one) is first.extensions["surveyapp.caches"]
        assert (
            first.extensions["surveyapp.caches"].instruments[
                (instrument.id, instrument.source_hash)
            ]
            is view
        )
        assert len(second.extensions["surveyapp.caches"].instruments) == 0
    finally:
        for app in (first, second):
            app.extensions["surveyapp.engine"].dispose()


def test_a_commit_that_changes_a_campaign_empties_the_targets(app, session: Session) -> None:
    setup_counter(session)
    caches: Caches = app.extensions["surveyapp.caches"]
    caches.put(caches.targets, "token", object())
    with app.extensions["surveyapp.sessionmaker"]() as db:
        db.scalars(select(Campaign)).one().name = "Đổi tên"
        db.rollback()  # a rolled-back change keeps the cache
    assert caches.get(caches.targets, "token") is not None
    with app.extensions["surveyapp.sessionmaker"]() as db:
        db.scalars(select(Campaign)).one().name = "Đổi tên"
        db.commit()
    assert caches.get(caches.targets, "token") is None


def test_caches_are_bounded_and_expire_by_the_injected_timer() -> None:
    now = [0.0]
    caches = Caches(target_seconds=5, timer=lambda: now[0], size=3)
    for i in range(5):
        caches.put(caches.targets, i, f"target {i}")
    assert len(caches.targets) == 3  # the oldest went first
    now[0] = 4.9
    assert caches.get(caches.targets, 4) == "target 4"
    now[0] = 5.1
    assert caches.get(caches.targets, 4) is None
    for i in range(300):
        caches.put(caches.instruments, i, i)
    assert len(caches.instruments) == 256
    assert Caches(target_seconds=0).targets is None  # SURVEY_TARGET_CACHE_SECONDS=0: no cache
