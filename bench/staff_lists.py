"""Back-office list pages (Flask-AppBuilder) with 20,000+ rows: ours vs stock FAB, same run.

    python -m bench.staff_lists [--needs 20000] [--database sqlite|URL] [--requests 40]
    python -m bench.staff_lists --reuse --database URL   # on bench.generate's data

"Stock" is a plain FAB ``ModelView`` over the same model and columns, served with FAB's own
security manager methods (one permission query per menu item and button, roles and groups
loaded lazily) — what a generated FAB back office does out of the box. "Ours" is the
application's view: jurisdiction filter, related columns loaded with the page, permissions
read once per request. Prints SQL statements per page (target ≤ 5, the same for every page
size) and pages per second through the WSGI app in-process, with the ratio (target ≥ 5×).

The machine is shared: stock and ours are measured in turns (``--rounds``, 3 by default), and
the ratio printed is the median of the rounds' ratios, with their range, so that a burst of
load on the other core during one window does not decide the figure.
"""
import argparse
import io
import sys
import tempfile
import time

VIEWS = {  # our endpoint → (model name, list columns, search columns as ours has them)
    "needmodelview": ("Need", ["title", "enterprise", "category", "field", "amount", "state"],
                      ["title", "category", "field", "state"]),
    "proposalmodelview": ("Proposal", ["need", "researcher", "budget", "state", "submitted_at"],
                          ["state", "submitted_at", "budget"]),
    "researchermodelview": ("Researcher", ["name", "institution", "position", "state"],
                            ["name", "position", "state"]),
}


def _stock_views(appbuilder):
    """Plain FAB ModelViews of the same models and columns, without our base classes."""
    from flask_appbuilder import ModelView
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    from app import models

    stock = {}
    for endpoint, (model_name, columns, searched) in VIEWS.items():
        # Stock FAB's default search form offers a dropdown of every related record (200,000
        # needs, a million researchers at 10x national: minutes a page); the same search
        # columns as ours compare the lists themselves.
        view = type(f"Stock{model_name}View", (ModelView,), {
            "datamodel": SQLAInterface(getattr(models, model_name)), "list_columns": columns,
            "search_columns": searched, "route_base": f"/stock{endpoint}"})
        appbuilder.add_view_no_menu(view)
        stock[endpoint] = f"/stock{endpoint}/list/"
    return stock


class StockSecurity:
    """Puts FAB's own methods back on the security manager, and FAB's menu rendering, while
    the stock views are timed."""

    NAMES = ("exist_permission_on_roles", "get_user_by_id", "_has_view_access")

    def __init__(self, sm):
        self.sm = sm

    def __enter__(self):
        from flask import current_app
        from flask_appbuilder.security.sqla.manager import SecurityManager

        from app.views import menu

        for name in self.NAMES:
            setattr(self.sm, name, getattr(SecurityManager, name).__get__(self.sm))
        # and FAB's menu, made again for every page (ours is kept: app/views/menu.py)
        self.globals = current_app.jinja_env.globals
        self.globals["kept_menu"] = menu.render_menu

    def __exit__(self, *exc):
        from app.views import menu

        for name in self.NAMES:
            delattr(self.sm, name)
        self.globals["kept_menu"] = menu.kept_menu


def _statements(client, url, engine, rows):
    """SQL statements of one page, after a warm-up page (templates, the first load of
    reference rows); checks the page shows ``rows`` rows."""
    from sqlalchemy import event

    count = [0]

    def counter(*_args):
        count[0] += 1

    client.get(url)
    event.listen(engine, "before_cursor_execute", counter)
    response = client.get(url)
    event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200, (url, response.status_code)
    shown = response.get_data(as_text=True).count("<tr") - 1  # the header's row
    assert shown == rows, f"{url} shows {shown} rows, not {rows}"
    return count[0]


def _rate(client, url, requests):
    """Pages per second over ``requests`` pages, or fewer (at least 3) when they take more
    than 20 s: a stock page of 200,000 rows takes seconds."""
    started, done = time.perf_counter(), 0
    while done < requests and (done < 3 or time.perf_counter() - started < 20):
        client.get(url)
        done += 1
    return done / (time.perf_counter() - started)


def run(n_needs, database_url, requests=40, out=sys.stdout, reuse=False, rounds=3):
    from flask_migrate import upgrade

    from app import create_app, models
    from app.extensions import db
    from app.core.security import sync_roles

    from .generate import generate

    if not reuse:
        generate(dict(enterprises=max(10, n_needs // 2), needs=n_needs, researchers=n_needs,
                      proposals=n_needs * 2), database_url, profiles=False, index=False,
                 out=io.StringIO())
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp())
    with app.app_context():
        upgrade()  # data generated by an older schema (--reuse) is brought up to date
        stock = _stock_views(app.appbuilder)
        sync_roles(app.appbuilder)
        sm = app.appbuilder.sm
        admin = sm.find_role("Admin")
        for pvm in sm.session.query(sm.permissionview_model).all():
            sm.add_permission_role(admin, pvm)  # the stock views' permissions too
        if sm.find_user("bench_admin") is None:
            sm.add_user("bench_admin", "B", "A", "bench@admin.local", admin,
                        password="pw-Bench-123456")
        db.session.commit()
        client = app.test_client()
        client.post("/login/", data={"username": "bench_admin", "password": "pw-Bench-123456"})
        rows = []
        print(f"{'list':<22}{'size':>5}{'SQL stock':>11}{'SQL ours':>10}{'stock/s':>9}"
              f"{'ours/s':>8}{'ratio':>7}  rounds", file=out)
        for endpoint in VIEWS:
            # FAB reads a list's page size from ``psize_<the view's class name>``.
            ours_name = next(type(view).__name__ for view in app.appbuilder.baseviews
                             if type(view).__name__.lower() == endpoint)
            model = getattr(models, VIEWS[endpoint][0])
            total = db.session.scalar(db.select(db.func.count(model.id)))
            for size in (25, 100):
                query = f"?psize_{ours_name}={size}"
                stock_query = f"?psize_Stock{VIEWS[endpoint][0]}View={size}"
                stock_url, ours_url = stock[endpoint] + stock_query, f"/{endpoint}/list/{query}"
                with StockSecurity(sm):
                    stock_sql = _statements(client, stock_url, db.engine, min(size, total))
                ours_sql = _statements(client, ours_url, db.engine, min(size, total))
                measured = []  # (stock/s, ours/s) of each round, in turns
                for _round in range(rounds):
                    with StockSecurity(sm):
                        stock_rate = _rate(client, stock_url, requests)
                    measured.append((stock_rate, _rate(client, ours_url, requests)))
                measured.sort(key=lambda rates: rates[1] / rates[0])
                stock_rate, ours_rate = measured[len(measured) // 2]  # the median round
                low, high = (ours / stock for stock, ours in (measured[0], measured[-1]))
                rows.append((endpoint, size, stock_sql, ours_sql, stock_rate, ours_rate))
                print(f"{endpoint:<22}{size:>5}{stock_sql:>11}{ours_sql:>10}{stock_rate:>9.1f}"
                      f"{ours_rate:>8.1f}{ours_rate / stock_rate:>7.1f}  {low:.1f}-{high:.1f}",
                      file=out)
        from app.models import Need

        n_rows = db.session.scalar(db.select(db.func.count(Need.id)))
    from .generate import peak_rss_mb

    print(f"targets: <= 5 SQL per page, >= 5x stock FAB; {n_rows:,} needs; peak memory: "
          f"{peak_rss_mb():,.0f} MB", file=out)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=40, help="pages per measure")
    parser.add_argument("--rounds", type=int, default=3,
                        help="stock and ours measured in turns; the median ratio is printed")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--reuse", action="store_true",
                        help="the database holds bench.generate's data: list it as it is")
    args = parser.parse_args(argv)
    url = (f"sqlite:///{tempfile.mkdtemp()}/lists.db" if args.database == "sqlite"
           else args.database)
    run(args.needs, url, args.requests, reuse=args.reuse, rounds=max(1, args.rounds))


if __name__ == "__main__":
    main()
