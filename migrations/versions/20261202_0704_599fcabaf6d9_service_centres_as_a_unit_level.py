"""service centres as a unit level

Revision ID: 599fcabaf6d9
Revises: ce735a6e3e34
Create Date: 2026-12-02 07:04:45.920988+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import surveyapp.db


# revision identifiers, used by Alembic.
revision: str = '599fcabaf6d9'
down_revision: Union[str, Sequence[str], None] = 'ce735a6e3e34'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


TABLES = ("units", "par_schemes", "publications")
OLD = "level IN ('province', 'department', 'district', 'commune')"
NEW = "level IN ('province', 'department', 'centre', 'district', 'commune')"


def _check(condition: str) -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_unitlevel"), type_="check")
            batch_op.create_check_constraint(batch_op.f(f"ck_{table}_unitlevel"), condition)


def upgrade() -> None:
    """The unit level of Public Administration Service Centres."""
    _check(NEW)


def downgrade() -> None:
    """Back to four levels (refused while a unit or a setting is a centre's)."""
    _check(OLD)
