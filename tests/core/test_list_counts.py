"""Back-office list counts are kept per process under their tables' row tokens
(app/core/list_counts.py): kept while nothing is written to a table they read, counted again after
any committed write by any path, and never shared between users who see different rows."""
import re

import pytest
from helpers import get_with_statements, login
from sqlalchemy import select, text, update

from app.core import cache_tokens, list_counts
from app.domain.dashboard import figures as dashboard
from app.domain.desk import kept
from app.extensions import db
from app.models import CacheToken, NeedState, Proposal, ProposalState

LIST = "/proposalmodelview/list/"


@pytest.fixture()
def proposals(make):
    """Five submitted proposals in Wuhan (420100), two in Yichang (420500)."""
    made = []
    for region, n in (("420100", 5), ("420500", 2)):
        need = make.need(make.enterprise(region), NeedState.published)
        made += [make.proposal(need, make.researcher(region)) for _ in range(n)]
    return made


def _page(client, url=LIST):
    """The count the page shows, and whether it ran a count statement to show it."""
    response, statements = get_with_statements(client, url)
    shown = re.search(r"</strong>\s*(\d+)", response.get_data(as_text=True))
    # A count statement of its own (the signed-in user's row counts the unread messages too).
    counted = any(re.match(r"\s*SELECT count\(", statement, re.IGNORECASE)
                  for statement in statements)
    return int(shown.group(1)), counted


def _token(kind):
    return db.session.scalar(select(CacheToken.token).where(CacheToken.name == kind))


def test_a_list_count_is_kept_until_a_proposal_is_added_or_deleted(client, make, proposals):
    make.user("Platform", "counts_platform")
    login(client, "counts_platform")
    assert _page(client) == (7, True)
    assert _page(client) == (7, False)

    make.proposal(proposals[0].need, make.researcher())  # an ORM insert, committed
    assert _page(client) == (8, True)
    assert _page(client) == (8, False)

    db.session.delete(db.session.get(Proposal, proposals[1].id))
    db.session.commit()
    assert _page(client) == (7, True)


def test_core_and_text_writes_replace_the_token_too(client, make, proposals):
    make.user("Platform", "counts_core")
    login(client, "counts_core")
    submitted = f"{LIST}?_flt_0_state={ProposalState.submitted.value}"
    assert _page(client, submitted) == (7, True)
    assert _page(client, submitted) == (7, False)

    db.session.execute(update(Proposal).where(Proposal.id == proposals[0].id)
                       .values(state=ProposalState.withdrawn))
    db.session.commit()
    assert _page(client, submitted) == (6, True)

    db.session.execute(text("UPDATE proposals SET state = :state WHERE id = :id"),
                       {"state": ProposalState.withdrawn.name, "id": proposals[1].id})
    db.session.commit()
    assert _page(client, submitted) == (5, True)

    connection = db.session.connection()  # past the session's ORM, straight to the driver
    connection.exec_driver_sql("UPDATE proposals SET state = 'withdrawn' WHERE id = "
                               f"{int(proposals[2].id)}")
    db.session.commit()
    assert _page(client, submitted) == (4, True)


def test_a_write_of_another_table_leaves_the_count_kept(client, make, proposals):
    make.user("Platform", "counts_other")
    login(client, "counts_other")
    _page(client)
    before = _token("rows:proposals")
    make.region("420300")  # reference data: not a table proposals are counted from
    assert _token("rows:proposals") == before
    assert _page(client) == (7, False)


def test_a_rolled_back_write_keeps_the_token_and_the_count(client, make, proposals):
    make.user("Platform", "counts_rollback")
    login(client, "counts_rollback")
    _page(client)
    before = _token("rows:proposals")
    db.session.execute(update(Proposal).values(state=ProposalState.withdrawn))
    db.session.rollback()
    assert _token("rows:proposals") == before
    assert _page(client) == (7, False)


def test_each_bureau_gets_the_count_of_its_own_region(client, make, proposals):
    wuhan = make.user("Bureau", "counts_wuhan", region_id=make.region("420100").id)
    yichang = make.user("Bureau", "counts_yichang", region_id=make.region("420500").id)
    for user, own in ((wuhan, 5), (yichang, 2)):
        login(client, user.username)
        assert _page(client) == (own, True)
        assert _page(client) == (own, False)
        client.get("/logout/")
    login(client, wuhan.username)
    assert _page(client) == (5, False)


def test_counts_of_one_filter_with_other_values_are_kept_apart(client, make, proposals):
    """A count is kept under its statement's shape and its values: the same filter with
    another value (a bound parameter) is another count."""
    make.user("Platform", "counts_values")
    login(client, "counts_values")
    db.session.execute(update(Proposal).where(Proposal.id == proposals[0].id)
                       .values(state=ProposalState.withdrawn))
    db.session.commit()
    by_state = {ProposalState.submitted: 6, ProposalState.withdrawn: 1,
                ProposalState.selected: 0}
    for state, expected in by_state.items():
        assert _page(client, f"{LIST}?_flt_0_state={state.value}") == (expected, True)
    for state, expected in by_state.items():
        assert _page(client, f"{LIST}?_flt_0_state={state.value}") == (expected, False)
    assert _page(client) == (7, True)


def test_a_statement_without_a_cache_key_is_kept_under_its_sql(app, proposals):
    query = db.session.query(Proposal).filter(Proposal.state == ProposalState.submitted)
    statement = query.statement
    keyed = list_counts._key(statement, db.session)
    statement._generate_cache_key = lambda: None  # as for an element SQLAlchemy cannot key
    by_sql = list_counts._key(statement, db.session)
    assert "FROM proposals" in by_sql[0] and "submitted" in by_sql[1]
    other = db.session.query(Proposal).filter(Proposal.state == ProposalState.withdrawn)
    assert list_counts._key(other.statement, db.session) != keyed


def test_a_transaction_that_wrote_rows_does_not_keep_what_it_counts(app, make, proposals):
    query = db.session.query(Proposal)
    with app.test_request_context():
        assert list_counts.count(query) == 7
        db.session.execute(update(Proposal).where(Proposal.id == proposals[0].id)
                           .values(state=ProposalState.withdrawn))
        submitted = query.filter(Proposal.state == ProposalState.submitted)
        assert list_counts.count(submitted) == 6  # its own, uncommitted write
        db.session.rollback()
    with app.test_request_context():
        assert list_counts.count(db.session.query(Proposal)
                                 .filter(Proposal.state == ProposalState.submitted)) == 7


def test_only_statements_of_the_counted_tables_without_clock_or_text_are_kept():
    from sqlalchemy import func

    from app.models import Need, ReviewRecord

    assert list_counts._tables_read(select(Proposal).where(Proposal.need_id.in_(
        select(Need.id)))) == {"proposals", "needs"}
    assert list_counts._tables_read(select(Proposal).where(
        Proposal.submitted_at < func.now())) is None
    assert list_counts._tables_read(select(Proposal).where(text("1 = 1"))) is None
    assert list_counts._tables_read(select(ReviewRecord)) - set(list_counts.COUNTED_TABLES)


def test_a_commit_of_a_connection_outside_the_session_replaces_the_token(tmp_path, app):
    """And a write in autocommit, which has no commit to tell it at, is refused."""
    from flask_migrate import upgrade

    from app import create_app

    own = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/own.db",
                     REDIS_URL=app.config["REDIS_URL"], UPLOAD_FOLDER=str(tmp_path / "up"))
    with own.app_context():
        upgrade()
        before = _token("rows:needs")
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE needs SET title = title"))
        assert _token("rows:needs") != before
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            with pytest.raises(Exception, match="autocommit"):
                connection.execute(text("DELETE FROM needs"))
        db.session.remove()
        db.engine.dispose()
    assert cache_tokens.row_kinds() == tuple(f"rows:{table}" for table in sorted(
        set(list_counts.COUNTED_TABLES) | set(kept.DESK_TABLES) | dashboard.KEPT_TABLES))
