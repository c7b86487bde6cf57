"""Every process-level cache of the app, in one place: one ``Caches`` per app, bounded, with one
invalidation rule and an injected timer.

What is kept, and why it stays right:

- ``instruments``: snapshots of published instruments by (id, content hash); ``forms``: the survey
  form class by (content hash, comment limit); ``questions``: a blank form's rendered questions by
  (content hash, locale). A published version never changes (the database session refuses it), so
  these entries never go stale; they are only dropped when the LRU bound is reached.
- ``static_versions``: a static file's content hash by (path, modification time, size), the
  ``v`` of its versioned URL (surveyapp.assets); an edited file has another key.
- ``targets``: a counter token resolved to its unit, open campaign and instrument, for
  ``SURVEY_TARGET_CACHE_SECONDS``. Units, counters, tokens and campaigns do change: this is the
  one cache that must be invalidated.

The rule: a commit of a session of this app that adds, changes or deletes a ``WATCHED`` object
(``Unit``, ``Counter``, ``CounterToken``, ``Campaign``) empties ``targets`` at once; another
process (worker) sees such a change when its own entry expires, within the cache age. A service
that edits any of these through the app's sessions needs nothing more; one that writes them with
raw SQL must call ``forget_targets``.

Services reach the caches through the session they are given (``caches_of``): the app's
sessionmaker puts its ``Caches`` in every session's ``info``. A session made elsewhere (a bench, a
script) gets a private, empty one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from itertools import chain
from typing import Any, TypeVar

from cachetools import Cache, LRUCache, TTLCache
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from surveyapp.models import Campaign, Counter, CounterToken, Unit

Value = TypeVar("Value")
INFO_KEY = "surveyapp.caches"
WATCHED = (Unit, Counter, CounterToken, Campaign)


class Caches:
    """The caches of one app (see the module's text for what each holds)."""

    def __init__(
        self,
        *,
        target_seconds: float,
        timer: Callable[[], float] = time.monotonic,
        size: int = 1024,
    ) -> None:
        self.timer = timer  # replaceable (tests): read through a lambda by the TTL cache
        self.instruments: LRUCache[Hashable, Any] = LRUCache(maxsize=256)
        self.forms: LRUCache[Hashable, Any] = LRUCache(maxsize=256)
        self.questions: LRUCache[Hashable, Any] = LRUCache(maxsize=512)
        self.static_versions: LRUCache[Hashable, Any] = LRUCache(maxsize=256)
        self.targets: TTLCache[Hashable, Any] | None = (
            TTLCache(maxsize=size, ttl=target_seconds, timer=lambda: self.timer())
            if target_seconds > 0
            else None
        )
        self._lock = threading.RLock()  # cachetools' caches are not thread-safe

    def get(self, cache: Cache[Hashable, Any] | None, key: Hashable) -> Any:
        if cache is None:
            return None
        with self._lock:
            return cache.get(key)

    def put(self, cache: Cache[Hashable, Any] | None, key: Hashable, value: Any) -> None:
        if cache is not None:
            with self._lock:
                cache[key] = value

    def remember(
        self, cache: Cache[Hashable, Any], key: Hashable, make: Callable[[], Value]
    ) -> Value:
        """The cached value, or ``make()``'s, kept (an immutable thing: see the module text)."""
        found = self.get(cache, key)
        if found is None:
            found = make()
            self.put(cache, key, found)
        return found

    def forget_targets(self) -> None:
        if self.targets is not None:
            with self._lock:
                self.targets.clear()

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Apply the invalidation rule to every session ``sessions`` makes."""

        def note(session: Session, _context: Any, _instances: Any) -> None:
            changed = chain(session.new, session.dirty, session.deleted)
            if any(isinstance(obj, WATCHED) for obj in changed):
                session.info["surveyapp.targets_changed"] = True

        def committed(session: Session) -> None:
            if session.info.pop("surveyapp.targets_changed", False):
                self.forget_targets()

        def rolled_back(session: Session, _previous: Any) -> None:
            session.info.pop("surveyapp.targets_changed", None)

        event.listen(sessions, "before_flush", note)
        event.listen(sessions, "after_commit", committed)
        event.listen(sessions, "after_soft_rollback", rolled_back)


def caches_of(session: Session) -> Caches:
    """The caches of the app whose session this is (a private empty set for a bare session)."""
    caches: Caches | None = session.info.get(INFO_KEY)
    if caches is None:
        caches = session.info[INFO_KEY] = Caches(target_seconds=0)
    return caches
