"""placeholder for the concurrent migration b8c9d0e1f2a3 (another branch); dropped at merge

Revision ID: b8c9d0e1f2a3
Revises: a1b2c3d4e5f6
Create Date: 2026-12-08 00:00:00

"""

# revision identifiers, used by Alembic.
revision = 'b8c9d0e1f2a3'
down_revision = 'a1b2c3d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
