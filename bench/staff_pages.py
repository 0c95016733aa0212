"""Every back-office page of every role, at scale: median ms, SQL statements, bytes, options.

    python -m bench.staff_pages --scale province --database URL --reuse [--rounds 5]

Signs in as each role (the regional roles in the largest and the smallest region) and requests
every GET route of the back office, generated from the URL map (``pages``), so a new page is
measured without anyone editing this file:

- a route without arguments is requested as it is (lists, forms, the dashboard, every export);
- a route with arguments (a record's page, its edit form, a docking page) is requested with the
  first link to it found on the role's pages (followed three links deep);
- a list is also requested at 100 rows and with each search column's first filter.

For each page: the median ms over ``--rounds``, the statements, the bytes, the largest
``<select>``, and the ratio of its time to the bare endpoint signed in as the same user in the
same run. It flags a page over its target (≤ 300 ms and ≤ 10 statements; an export ≤ 20
statements and ≤ 3 s; no select over 500 options), a list whose statements grow from 25 to
100 rows, and a page whose statements differ between the small and the large region. The memory
of this process (one worker serving every page in turn) is printed at the end.
"""
import argparse
import re
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from html.parser import HTMLParser
from urllib.parse import urlsplit

PASSWORD = "Bench-Pages-2020"
PAGE_MS, PAGE_SQL, EXPORT_MS, EXPORT_SQL, MAX_OPTIONS = 300, 10, 3000, 20, 500
# Endpoints that are not back-office pages: public site, static files, the REST API (measured
# by its own tests), sign-in and language switches, files (their bytes are the document).
SKIPPED = re.compile(r"^(static|appbuilder\.static|public\.|OpenApi\.|SwaggerView\.|LocaleView\.|"
                     r"UtilView\.|AuthDBView\.|MenuApi\.|bench_)|Api\.|"
                     r"\.(download|preview|delete|action|decide_many|api_\w+)$")
DEPTH = 3


class _Links(HTMLParser):
    """Links (href) and the option count of each <select> of a page."""

    def __init__(self):
        super().__init__()
        self.links, self.selects = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
        elif tag == "select":
            self.selects.append(0)
        elif tag == "option" and self.selects:
            self.selects[-1] += 1


_ESCAPED_SELECT = re.compile(r"\\u003cselect.*?\\u003c/select\\u003e", re.S)


def read_page(html: str):
    """The page's links, and the options of its largest select, counting those of the search
    form's fields, which FAB's search widget carries as JSON strings (``<`` as ``\\u003c``)
    for its script to insert."""
    parser = _Links()
    parser.feed(html)
    escaped = [block.count("\\u003coption") for block in _ESCAPED_SELECT.findall(html)]
    return parser.links, max(parser.selects + escaped, default=0)


def _view_of(app, endpoint):
    name = endpoint.split(".", 1)[0]
    return next((v for v in app.appbuilder.baseviews if type(v).__name__ == name), None)


def _filter_value(app, view, column):
    """A value a search filter on ``column`` accepts: an enum's first code, a related row's id,
    a date, a number or a word."""
    from app.extensions import db

    datamodel = view.datamodel
    if datamodel.is_relation(column):
        related = datamodel.get_related_model(column)
        return db.session.scalar(db.select(related.id).order_by(related.id).limit(1))
    col = datamodel.obj.__table__.columns.get(column)
    if col is None:
        return "湖北"
    enum_cls = getattr(col.type, "enum_class", None)
    if enum_cls is not None:
        return next(iter(enum_cls)).value
    python_type = getattr(col.type, "python_type", str)
    if python_type.__name__ in ("date", "datetime"):
        return "2026-01-01"
    if python_type.__name__ in ("int", "float", "Decimal"):
        return "1"
    return "湖北"


def list_variants(app, endpoint, path, filters=True):
    """The list at 100 rows and (``filters``) with each search column's first filter:
    [(label, url)]."""
    view = _view_of(app, endpoint)
    if view is None or not hasattr(view, "_filters"):
        return []
    from flask import has_app_context

    variants = [("100 rows", f"{path}?psize_{type(view).__name__}=100")]
    if not filters:
        return variants
    context = nullcontext() if has_app_context() else app.app_context()
    with context:
        for column, filters in view._filters.get_search_filters().items():
            value = _filter_value(app, view, column) if filters else None
            if value is not None:  # (a relation to an empty table has no value to filter by)
                variants.append((f"filter {column}", f"{path}?_flt_0_{column}={value}"))
    return variants


def pages(app, client, depth=DEPTH, filters=True):
    """Every back-office page ``client``'s user may open: [(endpoint, label, url, the largest
    select's options)]. Routes without arguments from the URL map, the others from links on
    those pages, followed ``depth`` links deep; lists also at 100 rows and, with ``filters``,
    with each search filter."""
    adapter = app.url_map.bind("localhost")
    rules = [r for r in app.url_map.iter_rules()
             if "GET" in r.methods and not SKIPPED.search(r.endpoint)]
    found, queue = {}, []
    for rule in rules:
        if not rule.arguments:
            queue.append((rule.endpoint, rule.rule, 0))
    seen_endpoints = set()
    result = []
    while queue:
        endpoint, url, level = queue.pop(0)
        if endpoint in seen_endpoints:
            continue
        seen_endpoints.add(endpoint)
        response = client.get(url)
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        response.close()
        if response.status_code != 200:
            continue
        links, options = read_page(html)
        result.append((endpoint, "", url, options))
        if endpoint.endswith(".list"):
            for label, variant in list_variants(app, endpoint, url, filters):
                answer = client.get(variant)
                options = read_page(answer.get_data(as_text=True))[1]
                answer.close()
                if answer.status_code != 400:  # 400: a filter the user's form does not offer
                    result.append((endpoint, label, variant, options))
        if level >= depth:
            continue
        for href in links:
            parts = urlsplit(href)
            if parts.netloc and parts.netloc != "localhost":
                continue
            try:
                linked, args = adapter.match(parts.path, method="GET")
            except Exception:  # not a route (anchors, javascript:, 404s)
                continue
            if (args and linked not in found and linked not in seen_endpoints
                    and not SKIPPED.search(linked)):
                found[linked] = parts.path + (f"?{parts.query}" if parts.query else "")
                queue.append((linked, found[linked], level + 1))
    return result


def measure(client, engine, url, rounds):
    """(status, median ms, statements, bytes, largest select) of one page, after a warm-up."""
    from sqlalchemy import event

    client.get(url).close()
    count = [0]

    def counter(_conn, _cursor, statement, *_args):
        if statement not in ("BEGIN", "COMMIT"):
            count[0] += 1

    times = []
    for n in range(rounds):
        if n == 0:
            event.listen(engine, "before_cursor_execute", counter)
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        response.close()
        if n == 0:
            event.remove(engine, "before_cursor_execute", counter)
        if times[-1] > 10_000:  # a page of seconds: its first rounds say enough
            break
    options = read_page(body.decode("utf-8", "replace"))[1] if response.mimetype == "text/html" \
        else 0
    return response.status_code, statistics.median(times), count[0], len(body), options


def bench_users(app):
    """A user of each role: the regional ones in the largest and the smallest region (by
    enterprises), each with records of its own. {label: username}."""
    from sqlalchemy import func, select

    from app.core.security import ROLE_DEFINITIONS, sync_roles
    from app.extensions import db
    from app.models import AppUser, Enterprise, Need, Proposal, Researcher

    users = {}
    with app.app_context():
        sync_roles(app.appbuilder)
        by_size = db.session.execute(select(Enterprise.region_id, func.count()).group_by(
            Enterprise.region_id).order_by(func.count().desc())).all()
        regions = {"large": by_size[0][0], "small": by_size[-1][0]}
        sm = app.appbuilder.sm
        for role in ["Admin", *ROLE_DEFINITIONS]:
            sizes = regions if role in ("Bureau", "Enterprise", "Researcher") else {"": None}
            for size, region in sizes.items():
                username = f"bench_pages_{role.lower()}{'_' + size if size else ''}"
                users[f"{role} {size}".strip()] = username
                if db.session.scalar(select(AppUser.id).where(AppUser.username == username)):
                    continue
                user = sm.add_user(username, role, "基准", f"{username}@bench.local",
                                   sm.find_role(role), password=PASSWORD)
                if role == "Bureau":
                    user.region_id = region
                elif role == "Enterprise":
                    user.enterprise_id = db.session.scalar(
                        select(Need.enterprise_id).join(Enterprise).join(Proposal)
                        .where(Enterprise.region_id == region).group_by(Need.enterprise_id)
                        .order_by(func.count(Proposal.id).desc()).limit(1)) or db.session.scalar(
                        select(Enterprise.id).where(Enterprise.region_id == region).limit(1))
                elif role == "Researcher":
                    user.researcher_id = db.session.scalar(
                        select(Proposal.researcher_id).join(Researcher)
                        .group_by(Proposal.researcher_id)
                        .order_by(func.count().desc() if size == "large" else func.count())
                        .limit(1))
                db.session.commit()
    return users


def run(database_url, redis_url, rounds=5, out=sys.stdout, roles=None):
    """Measures every page of every bench user; returns the rows and the flags."""
    from app import create_app
    from app.extensions import db

    from .generate import peak_rss_mb

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp(), REDIS_URL=redis_url)
    app.add_url_rule("/bench/bare", "bench_bare", lambda: "ok")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    users = bench_users(app)
    with app.app_context():
        engine = db.engine
    start_mb = _rss_mb()
    rows, flags = [], []
    print(f"{'who':<18}{'page':<58}{'code':>5}{'ms':>9}{'SQL':>6}{'KB':>8}{'opts':>6}"
          f"{'/bare':>8}", file=out)
    for who, username in users.items():
        if roles and who.split()[0] not in roles:
            continue
        client = app.test_client()
        assert client.post("/login/", data={"username": username, "password": PASSWORD}
                           ).status_code == 302, f"{who} could not sign in"
        bare = statistics.median(measure(client, engine, "/bench/bare", 30)[1] for _ in range(3))
        for endpoint, label, url, _options in pages(app, client):
            status, ms, sql, size, options = measure(client, engine, url, rounds)
            rows.append(dict(who=who, endpoint=endpoint, label=label, url=url, status=status,
                             ms=ms, sql=sql, bytes=size, options=options, ratio=ms / bare))
            print(f"{who:<18}{(endpoint + ' ' + label)[:57]:<58}{status:>5}{ms:>9.1f}{sql:>6}"
                  f"{size / 1024:>8.0f}{options:>6}{ms / bare:>8.0f}", file=out, flush=True)
    flags = check(rows)
    print(f"\n{len(rows)} pages; flags ({len(flags)}):", file=out)
    for flag in flags:
        print(f"  {flag}", file=out)
    print(f"memory of this process: {start_mb:,.0f} MB before the pages, {_rss_mb():,.0f} MB "
          f"after (peak {peak_rss_mb():,.0f} MB)", file=out)
    return rows, flags


def is_export(endpoint, url) -> bool:
    return url.endswith(".xlsx") or endpoint.endswith(("export", "_pdf"))


def check(rows):
    """The targets and the growth of statements, as text flags."""
    flags = []
    for row in rows:
        export = is_export(row["endpoint"], row["url"])
        max_ms, max_sql = (EXPORT_MS, EXPORT_SQL) if export else (PAGE_MS, PAGE_SQL)
        where = f"{row['who']}: {row['url']}"
        if row["status"] != 200:
            flags.append(f"{where} answered {row['status']}")
        if row["ms"] > max_ms:
            flags.append(f"{where} took {row['ms']:.0f} ms (target {max_ms})")
        if row["sql"] > max_sql:
            flags.append(f"{where} ran {row['sql']} statements (target {max_sql})")
        if row["options"] > MAX_OPTIONS:
            flags.append(f"{where} offers a select of {row['options']} options")
    by_key = {(r["who"], r["endpoint"], r["label"]): r for r in rows}
    for (who, endpoint, label), row in by_key.items():
        if label == "100 rows":
            small = by_key.get((who, endpoint, ""))
            if small and row["sql"] > small["sql"]:
                flags.append(f"{who}: {endpoint} runs {small['sql']} statements at 25 rows, "
                             f"{row['sql']} at 100")
        if who.endswith(" small"):
            large = by_key.get((who.replace(" small", " large"), endpoint, label))
            if large and large["sql"] != row["sql"] and not endpoint.endswith((".show", ".edit")):
                flags.append(f"{who.split()[0]}: {endpoint} {label} runs {row['sql']} statements "
                             f"in the small region, {large['sql']} in the large")
    return flags


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="province", choices=("tiny", "province",
                                                                "national10x"))
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--reuse", action="store_true", help="on bench.generate's data")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--roles", nargs="*", help="only these roles (Bureau, Platform, ...)")
    args = parser.parse_args(argv)
    url = (f"sqlite:///{tempfile.mkdtemp()}/pages.db" if args.database == "sqlite"
           else args.database)
    if not args.reuse:
        import io

        from .generate import generate

        generate(args.scale, url, out=io.StringIO())
    run(url, args.redis, args.rounds, roles=args.roles)


if __name__ == "__main__":
    main()
