"""create initial schema

Revision ID: add89ca0ea89
Revises: 
Create Date: 2026-11-21 21:30:10.664963+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import surveyapp.db


# revision identifiers, used by Alembic.
revision: str = 'add89ca0ea89'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('instruments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('scale', sa.JSON(), nullable=False),
    sa.Column('aggregation', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', name='instrumentstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('published_at', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instruments')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_instruments_code_version'))
    )
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instruments_code'), ['code'], unique=False)

    op.create_table('service_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_fields')),
    sa.UniqueConstraint('code', name=op.f('uq_service_fields_code'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('level', sa.Enum('province', 'department', 'district', 'commune', name='unitlevel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_units_path', ['path'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.Enum('official', 'general', name='stream', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('min_n', sa.Integer(), nullable=False),
    sa.Column('margin', sa.Numeric(precision=4, scale=3), nullable=False),
    sa.Column('is_closed', sa.Boolean(), nullable=False),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_campaigns_ends_after_starts')),
    sa.CheckConstraint('margin > 0 AND margin < 1', name=op.f('ck_campaigns_margin_in_range')),
    sa.CheckConstraint('min_n >= 0', name=op.f('ck_campaigns_min_n_not_negative')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_campaigns_instrument_id_instruments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('code', name=op.f('uq_campaigns_code'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaigns_stream'), ['stream'], unique=False)

    op.create_table('counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_counters_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counters')),
    sa.UniqueConstraint('code', name=op.f('uq_counters_code'))
    )
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counters_unit_id'), ['unit_id'], unique=False)

    op.create_table('instrument_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('weight', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_instrument_domains_instrument_id_instruments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_domains')),
    sa.UniqueConstraint('instrument_id', 'code', name=op.f('uq_instrument_domains_instrument_id_code'))
    )
    with op.batch_alter_table('instrument_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_domains_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('procedures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_field_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['service_field_id'], ['service_fields.id'], name=op.f('fk_procedures_service_field_id_service_fields'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedures')),
    sa.UniqueConstraint('code', name=op.f('uq_procedures_code'))
    )
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_procedures_service_field_id'), ['service_field_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'par_office', 'unit_manager', 'counter_staff', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_users_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_role'), ['role'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_unit_id'), ['unit_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=60), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_entity', ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_user_id'), ['user_id'], unique=False)

    op.create_table('campaign_units',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_units_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_campaign_units_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('campaign_id', 'unit_id', name=op.f('pk_campaign_units'))
    )
    with op.batch_alter_table('campaign_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_units_unit_id'), ['unit_id'], unique=False)

    op.create_table('counter_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_counter_tokens_counter_id_counters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_tokens')),
    sa.UniqueConstraint('token', name=op.f('uq_counter_tokens_token'))
    )
    with op.batch_alter_table('counter_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counter_tokens_counter_id'), ['counter_id'], unique=False)

    op.create_table('dossiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('service_field_id', sa.Integer(), nullable=True),
    sa.Column('procedure_id', sa.Integer(), nullable=True),
    sa.Column('receiving_user_id', sa.Integer(), nullable=True),
    sa.Column('received_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('returned_at', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('due_at IS NULL OR due_at >= received_at', name=op.f('ck_dossiers_due_after_received')),
    sa.CheckConstraint('returned_at IS NULL OR returned_at >= received_at', name=op.f('ck_dossiers_returned_after_received')),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'], name=op.f('fk_dossiers_procedure_id_procedures'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['receiving_user_id'], ['users.id'], name=op.f('fk_dossiers_receiving_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['service_field_id'], ['service_fields.id'], name=op.f('fk_dossiers_service_field_id_service_fields'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_dossiers_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossiers')),
    sa.UniqueConstraint('code', name=op.f('uq_dossiers_code'))
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossiers_procedure_id'), ['procedure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_receiving_user_id'), ['receiving_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_returned_at'), ['returned_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_service_field_id'), ['service_field_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_unit_id'), ['unit_id'], unique=False)

    op.create_table('instrument_elements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['instrument_domains.id'], name=op.f('fk_instrument_elements_domain_id_instrument_domains'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_instrument_elements_instrument_id_instruments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_elements')),
    sa.UniqueConstraint('instrument_id', 'code', name=op.f('uq_instrument_elements_instrument_id_code'))
    )
    with op.batch_alter_table('instrument_elements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_elements_domain_id'), ['domain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_elements_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('instrument_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('rating', 'choice', 'text', name='itemkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('section', sa.String(length=20), nullable=False),
    sa.Column('text', sa.JSON(), nullable=False),
    sa.Column('is_required', sa.Boolean(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['element_id'], ['instrument_elements.id'], name=op.f('fk_instrument_items_element_id_instrument_elements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_instrument_items_instrument_id_instruments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_items')),
    sa.UniqueConstraint('instrument_id', 'code', name=op.f('uq_instrument_items_instrument_id_code')),
    sa.UniqueConstraint('instrument_id', 'position', name=op.f('uq_instrument_items_instrument_id_position'))
    )
    with op.batch_alter_table('instrument_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_items_element_id'), ['element_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_items_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_code', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('qr', 'kiosk', 'link', 'paper', 'import', name='channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('stream', sa.Enum('official', 'general', name='stream', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('status', sa.Enum('reportable', 'spam', 'test', 'deleted', name='responsestatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('submitted_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('respondent_type', sa.Enum('individual', 'organisation', name='respondenttype', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('sex', sa.String(length=10), nullable=True),
    sa.Column('age_band', sa.String(length=10), nullable=True),
    sa.Column('updated_at', surveyapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('period BETWEEN 190001 AND 299912', name=op.f('ck_responses_period_is_yyyymm')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_responses_campaign_id_campaigns'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_responses_counter_id_counters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_responses_dossier_id_dossiers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_responses_instrument_id_instruments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_responses_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses')),
    sa.UniqueConstraint('dossier_id', name=op.f('uq_responses_dossier_id')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_responses_idempotency_key')),
    sa.UniqueConstraint('receipt_code', name=op.f('uq_responses_receipt_code'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responses_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responses_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_responses_counter_id'), ['counter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responses_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index('ix_responses_period_status', ['period', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_responses_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_responses_unit_id_period', ['unit_id', 'period'], unique=False)

    op.create_table('answer_counts',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('stream', sa.Enum('official', 'general', name='stream', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint('count >= 0', name=op.f('ck_answer_counts_count_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['instrument_items.id'], name=op.f('fk_answer_counts_item_id_instrument_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_answer_counts_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('unit_id', 'period', 'stream', 'item_id', 'level', name=op.f('pk_answer_counts'))
    )
    with op.batch_alter_table('answer_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_counts_item_id'), ['item_id'], unique=False)

    op.create_table('answers',
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.SmallInteger(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.CheckConstraint('value IS NOT NULL OR text IS NOT NULL', name=op.f('ck_answers_has_value')),
    sa.CheckConstraint('value IS NULL OR value BETWEEN 0 AND 10', name=op.f('ck_answers_value_in_range')),
    sa.ForeignKeyConstraint(['item_id'], ['instrument_items.id'], name=op.f('fk_answers_item_id_instrument_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_answers_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'item_id', name=op.f('pk_answers'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answers_item_id'), ['item_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('created_at', surveyapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_comments_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments')),
    sa.UniqueConstraint('response_id', name=op.f('uq_comments_response_id'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_created_at'), ['created_at'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_created_at'))

    op.drop_table('comments')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answers_item_id'))

    op.drop_table('answers')
    with op.batch_alter_table('answer_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_counts_item_id'))

    op.drop_table('answer_counts')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_unit_id_period')
        batch_op.drop_index(batch_op.f('ix_responses_unit_id'))
        batch_op.drop_index('ix_responses_period_status')
        batch_op.drop_index(batch_op.f('ix_responses_instrument_id'))
        batch_op.drop_index(batch_op.f('ix_responses_counter_id'))
        batch_op.drop_index(batch_op.f('ix_responses_channel'))
        batch_op.drop_index(batch_op.f('ix_responses_campaign_id'))

    op.drop_table('responses')
    with op.batch_alter_table('instrument_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_items_instrument_id'))
        batch_op.drop_index(batch_op.f('ix_instrument_items_element_id'))

    op.drop_table('instrument_items')
    with op.batch_alter_table('instrument_elements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_elements_instrument_id'))
        batch_op.drop_index(batch_op.f('ix_instrument_elements_domain_id'))

    op.drop_table('instrument_elements')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossiers_unit_id'))
        batch_op.drop_index(batch_op.f('ix_dossiers_service_field_id'))
        batch_op.drop_index(batch_op.f('ix_dossiers_returned_at'))
        batch_op.drop_index(batch_op.f('ix_dossiers_receiving_user_id'))
        batch_op.drop_index(batch_op.f('ix_dossiers_procedure_id'))

    op.drop_table('dossiers')
    with op.batch_alter_table('counter_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counter_tokens_counter_id'))

    op.drop_table('counter_tokens')
    with op.batch_alter_table('campaign_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_units_unit_id'))

    op.drop_table('campaign_units')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_user_id'))
        batch_op.drop_index('ix_audit_log_entity')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_unit_id'))
        batch_op.drop_index(batch_op.f('ix_users_role'))

    op.drop_table('users')
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_procedures_service_field_id'))

    op.drop_table('procedures')
    with op.batch_alter_table('instrument_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_domains_instrument_id'))

    op.drop_table('instrument_domains')
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counters_unit_id'))

    op.drop_table('counters')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_stream'))
        batch_op.drop_index(batch_op.f('ix_campaigns_instrument_id'))

    op.drop_table('campaigns')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_path')
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))
        batch_op.drop_index(batch_op.f('ix_units_level'))

    op.drop_table('units')
    op.drop_table('service_fields')
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instruments_code'))

    op.drop_table('instruments')
