"""Schema invariants that reports at scale depend on."""

from __future__ import annotations

from surveyapp.db import Base


def test_every_foreign_key_is_indexed() -> None:
    unindexed = []
    for table in Base.metadata.sorted_tables:
        leading = {tuple(c.name for c in table.primary_key.columns)[:1]}
        leading |= {tuple(c.name for c in ix.columns)[:1] for ix in table.indexes}
        leading |= {
            tuple(c.name for c in uq.columns)[:1]
            for uq in table.constraints
            if uq.__class__.__name__ == "UniqueConstraint"
        }
        leading |= {(c.name,) for c in table.columns if c.unique or c.index}
        for fk in table.foreign_key_constraints:
            first = (fk.columns.keys()[0],)
            if first not in leading:
                unindexed.append(f"{table.name}.{first[0]}")
    assert unindexed == []


def test_constraints_are_named_by_convention() -> None:
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"
