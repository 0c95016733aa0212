"""project execution: co-signature, score sheet, evaluation result as a code, opinion

Revision ID: f305289e69fe
Revises: f6dc8ba3922e
Create Date: 2026-11-25 16:40:36.043957

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f305289e69fe'
down_revision = 'f6dc8ba3922e'
branch_labels = None
depends_on = None


RESULTS = ('excellent', 'good', 'qualified', 'unqualified')
CHECK = "evaluation_result IN ('excellent', 'good', 'qualified', 'unqualified')"


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('researcher_confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('evaluation_scores', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('evaluation_opinion', sa.Text(), nullable=True))
    # evaluation_result held the province's free-text opinion; it becomes the result's code
    # (优秀/良好/合格/不合格, derived from the score sheet). Keep any text as the opinion.
    op.execute("UPDATE projects SET evaluation_opinion = evaluation_result, "
               "evaluation_result = NULL WHERE evaluation_result IS NOT NULL")
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.alter_column('evaluation_result', existing_type=sa.Text(),
                              type_=sa.String(length=32), existing_nullable=True)
        batch_op.create_check_constraint('ck_evaluationresult', CHECK)


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint('ck_evaluationresult', type_='check')
        batch_op.alter_column('evaluation_result', existing_type=sa.String(length=32),
                              type_=sa.Text(), existing_nullable=True)
    op.execute("UPDATE projects SET evaluation_result = evaluation_opinion")
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('evaluation_opinion')
        batch_op.drop_column('evaluation_scores')
        batch_op.drop_column('researcher_confirmed_at')
