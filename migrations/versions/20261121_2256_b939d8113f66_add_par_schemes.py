"""add par schemes

Revision ID: b939d8113f66
Revises: 89815cb569e2
Create Date: 2026-11-21 22:56:02.154175+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import surveyapp.db


# revision identifiers, used by Alembic.
revision: str = 'b939d8113f66'
down_revision: Union[str, Sequence[str], None] = '89815cb569e2'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('par_schemes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('province', 'department', 'district', 'commune', name='unitlevel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('instrument_code', sa.String(length=40), nullable=False),
    sa.Column('appraisal_max', sa.String(length=20), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('ranking_bands', sa.JSON(), nullable=False),
    sa.Column('decision', sa.String(length=200), nullable=False),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['province_id'], ['units.id'], name=op.f('fk_par_schemes_province_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_par_schemes')),
    sa.UniqueConstraint('province_id', 'level', 'year', name=op.f('uq_par_schemes_province_id_level_year'))
    )
    with op.batch_alter_table('par_schemes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_par_schemes_province_id'), ['province_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('par_schemes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_par_schemes_province_id'))

    op.drop_table('par_schemes')
