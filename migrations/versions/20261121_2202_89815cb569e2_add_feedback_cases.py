"""add feedback cases

Revision ID: 89815cb569e2
Revises: c1f1daf60cc1
Create Date: 2026-11-21 22:02:51.191592+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import surveyapp.db


# revision identifiers, used by Alembic.
revision: str = '89815cb569e2'
down_revision: Union[str, Sequence[str], None] = 'c1f1daf60cc1'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('new', 'assigned', 'in_progress', 'answered', 'closed', name='casestatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('element_code', sa.String(length=40), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('due_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_cases_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_cases_response_id_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_cases_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('response_id', name=op.f('uq_cases_response_id'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_cases_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_cases_due_at_id', ['due_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_unit_id_status_created_at', ['unit_id', 'status', 'created_at'], unique=False)

    op.create_table('case_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notes_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_notes_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notes_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_notes_author_id'))

    op.drop_table('case_notes')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_unit_id_status_created_at')
        batch_op.drop_index('ix_cases_due_at_id')
        batch_op.drop_index('ix_cases_status_due_at')
        batch_op.drop_index('ix_cases_created_at_id')
        batch_op.drop_index(batch_op.f('ix_cases_assignee_id'))

    op.drop_table('cases')
