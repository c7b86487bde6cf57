"""flag bursts of identical answers

Revision ID: c1f1daf60cc1
Revises: add89ca0ea89
Create Date: 2026-11-21 21:43:15.954605+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import surveyapp.db


# revision identifiers, used by Alembic.
revision: str = 'c1f1daf60cc1'
down_revision: Union[str, Sequence[str], None] = 'add89ca0ea89'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answers_digest', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('is_flagged', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('flag_reason', sa.String(length=40), nullable=True))
        batch_op.drop_index(batch_op.f('ix_responses_counter_id'))
        batch_op.create_index('ix_responses_counter_id_digest_submitted_at', ['counter_id', 'answers_digest', 'submitted_at'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_counter_id_digest_submitted_at')
        batch_op.create_index(batch_op.f('ix_responses_counter_id'), ['counter_id'], unique=False)
        batch_op.drop_column('flag_reason')
        batch_op.drop_column('is_flagged')
        batch_op.drop_column('answers_digest')

