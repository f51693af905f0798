"""notifications: inbox, deliveries, subscriptions, preferences (issue 7)

Revision ID: 0006_notifications
Revises: 0005_checkin
Create Date: 2026-11-29 20:40:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0006_notifications'
down_revision = '0005_checkin'
branch_labels = None
depends_on = None


def upgrade():
    pass  # filled in by the package's issue


def downgrade():
    pass
