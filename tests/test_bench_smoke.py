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
