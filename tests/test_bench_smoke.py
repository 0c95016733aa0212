"""The benchmarks run tiny in the test suite so they cannot rot (real sizes: see bench/)."""
import io


def test_need_search_benchmark_runs_and_keeps_pages_at_two_queries(tmp_path):
    from bench.need_search import run

    out = io.StringIO()
    rows, statements = run(60, f"sqlite:///{tmp_path}/bench.db", out=out)
    assert statements == {20: 2, 50: 2, 100: 2}
    assert len(rows) >= 5 and "ratio" in out.getvalue()
    assert any(found > 0 for _q, found, *_rest in rows)


def test_matching_benchmark_runs_and_agrees_on_sizes(tmp_path):
    from bench.matching import run

    out = io.StringIO()
    result = run(40, 120, f"sqlite:///{tmp_path}/match.db", out=out, one_need=5)
    assert result["matches"] > 0 and result["ratio"] > 0 and result["p95_ms"] > 0
    assert "reference (scikit-learn)" in out.getvalue()


def test_fanout_benchmark_delivers_every_notification(app, redis_conn, tmp_path):
    from bench.fanout import run

    out = io.StringIO()
    result = run(12, f"sqlite:///{tmp_path}/fan.db", app.config["REDIS_URL"], out=out)
    assert result["rows"] == 24 and result["jobs"] == 1  # site + e-mail per person, one batch
    assert "empty jobs per second" in out.getvalue()


def test_the_generator_loads_every_table_at_the_tiny_scale(tmp_path):
    import sqlite3

    from bench.generate import SCALES, generate

    url = f"sqlite:///{tmp_path}/gen.db"
    timings = generate("tiny", url, out=io.StringIO())
    assert [label for label, *_rest in timings] == [
        "institutions", "enterprises", "needs", "researchers", "researcher fields", "proposals",
        "after 立项", "search index"]
    with sqlite3.connect(f"{tmp_path}/gen.db") as conn:
        count = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                 for table in ("enterprises", "needs", "researchers", "proposals")}
        # What follows 立项: every table of the second stage has rows to walk.
        after = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                 for table in ("contracts", "projects", "publicities", "payments", "milestones",
                               "service_logs")}
        # Search and matching work on what the generator wrote: pinyin, profiles, the index.
        initials = conn.execute("SELECT count(*) FROM needs WHERE name_initials <> ''").fetchone()
        indexed = conn.execute("SELECT count(DISTINCT need_id) FROM need_search_terms").fetchone()
        active = conn.execute("SELECT count(*) FROM (SELECT need_id, researcher_id FROM proposals "
                              "GROUP BY 1, 2 HAVING count(*) > 1)").fetchone()
    tiny = SCALES["tiny"]
    assert count == {"enterprises": tiny["enterprises"], "needs": tiny["needs"],
                     "researchers": tiny["researchers"], "proposals": tiny["proposals"]}
    # A need under contract leaves the public list and its search index.
    assert initials[0] == tiny["needs"] and active[0] == 0
    assert indexed[0] == tiny["needs"] - tiny["projects"]
    assert after["contracts"] == after["projects"] == tiny["projects"], after
    assert min(after.values()) >= 1, after


def test_staff_list_benchmark_compares_with_stock_fab(tmp_path):
    from bench.staff_lists import run

    out = io.StringIO()
    rows = run(30, f"sqlite:///{tmp_path}/lists.db", requests=1, out=out)
    assert len(rows) == 6 and "ratio" in out.getvalue()
    for _view, _size, stock_sql, ours_sql, stock_rate, ours_rate in rows:
        assert ours_sql <= 5 < stock_sql and stock_rate > 0 and ours_rate > 0


def test_page_load_benchmark_serves_every_page_through_gunicorn(app, tmp_path):
    from bench.need_pages import run

    out = io.StringIO()
    result = run("tiny", f"sqlite:///{tmp_path}/pages.db", app.config["REDIS_URL"], seconds=1,
                 connections=2, workers=1, out=out)
    assert set(result["ratios"]) == {"bare endpoint", "list, anonymous", "detail, anonymous",
                                     "list, signed in", "detail, signed in"}
    for label, measured in result["results"].items():
        assert measured["rate"] > 0 and measured["failed"] == 0, (label, measured)
    for label, (first, kept, made) in result["statements"].items():
        assert kept == 1 and first <= 3, (label, first, kept, made)  # kept: the token only
    assert "ratio" in out.getvalue()


def test_a_whole_push_round_is_made_and_enqueued_on_generated_data(app, redis_conn, tmp_path):
    """generate → matching (stores the re-match) → fanout --round, as bench/README.md runs
    them at 10x national scale."""
    from bench.fanout import push_round, push_round_by_workers
    from bench.generate import generate
    from bench.matching import run as run_matching

    url = f"sqlite:///{tmp_path}/round.db"
    generate("tiny", url, out=io.StringIO())
    matched = run_matching(0, 0, url, out=io.StringIO(), one_need=3, reuse=True,
                           with_reference=False)
    out = io.StringIO()
    result = push_round(url, app.config["REDIS_URL"], out=out)
    # Every researcher and enterprise with a match gets one digest on site, e-mail and SMS.
    assert matched["matches"] > 0 and result["digests"] > 0
    assert result["rows"] == 3 * result["digests"] and result["jobs"] >= result["rows"] // 100
    assert "peak memory" in out.getvalue()
    # The same round by blocks, run by a real `flask worker` process.
    by_workers = push_round_by_workers(url, app.config["REDIS_URL"], [1], blocks=2, out=out)
    assert by_workers[1]["error"] is None and by_workers[1]["peaks"][0] > 0
    assert (by_workers[1]["digests"], by_workers[1]["rows"]) == (result["digests"], result["rows"])


def test_desk_benchmark_serves_every_role_its_desk_and_inbox(app, tmp_path):
    from bench.desk import ROLES, run

    out = io.StringIO()
    result = run("tiny", f"sqlite:///{tmp_path}/desk.db", app.config["REDIS_URL"], seconds=1,
                 connections=2, workers=1, out=out)
    assert set(result["ratios"]) == set(ROLES)
    for role, figures in result["figures"].items():
        first, kept = figures["first"][0], figures["kept"][0]
        # Kept: the desk costs no count statement, so fewer statements than the first time.
        assert kept < first, (role, first, kept)
        assert figures["inbox"][0] > 0, role
    for (role, page), measured in result["results"].items():
        assert measured["rate"] > 0 and measured["failed"] == 0, (role, page, measured)
    assert "/ desk" in out.getvalue() and "badge" in out.getvalue()


def test_staff_pages_benchmark_walks_a_roles_pages_and_checks_them(app, tmp_path):
    from bench.generate import generate
    from bench.staff_pages import run

    url = f"sqlite:///{tmp_path}/pages.db"
    generate("tiny", url, out=io.StringIO())
    out = io.StringIO()
    rows, flags = run(url, app.config["REDIS_URL"], rounds=1, out=out, roles=["Bureau"])
    walked = {(row["who"], row["endpoint"]) for row in rows}
    # both regions' bureaus, their lists, exports and dashboard, each with its figures
    assert {"Bureau large", "Bureau small"} == {who for who, _endpoint in walked}
    assert {"NeedModelView.list", "NeedListExportView.export", "DashboardView.index"} <= {
        endpoint for _who, endpoint in walked}
    assert all(row["status"] == 200 and row["sql"] > 0 for row in rows)
    assert "flags" in out.getvalue() and isinstance(flags, list)
