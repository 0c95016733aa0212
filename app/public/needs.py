"""Public need list and detail: published needs only, no contact data for anonymous visitors."""
from flask import abort, g, render_template, request
from markupsafe import Markup

from app.core.display import whole_yuan as yuan
from app.domain.docking.proposals import proposal_offer
from app.domain.needs.need_list import (
    NeedFilters,
    can_see_contact,
    page_of_needs,
    reference_labels,
    shown_total,
)
from app.public.blueprint import bp
from app.public.need_page import need_page
from app.public.page_cache import for_anonymous_visitors, kept_part, language

PAGE_SIZES = (20, 50, 100)


def _choices(labels, filters):
    """The filter choices' HTML, rendered once per selection for these labels."""
    key = (filters.category_id, filters.field_id, filters.region_id)
    html = labels.rendered.get(key)
    if html is None:
        if len(labels.rendered) > 2000:
            labels.rendered.clear()
        html = labels.rendered[key] = Markup(render_template(
            "public/_need_choices.html", labels=labels, filters=filters))
    return html


def _groups(rows, labels, grouped):
    """``[(heading, rows)]``: the page's needs under their field (one group, no heading, for
    a ranked search), each row the plain values a line of the table shows."""
    groups = []
    for row in rows:
        heading = labels.field[row.field_id] if grouped else None
        if not groups or groups[-1][0] != heading:
            groups.append((heading, []))
        groups[-1][1].append((row.id, row.title, labels.category[row.category_id],
                              labels.region[row.region_id], yuan(row.amount),
                              row.enterprise_name))
    return groups


@bp.route("/needs")
@for_anonymous_visitors
def need_list():
    return render_template("public/needs.html", body=kept_part(_need_list_body))


def _need_list_body():
    """Everything of the list page below the navigation: the same for every visitor."""
    filters = NeedFilters.from_args(request.args)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    per_page = request.args.get("per_page", "50")
    per_page = int(per_page) if per_page.isdigit() and int(per_page) in PAGE_SIZES else 50
    labels = reference_labels(language())
    needs, total = page_of_needs(filters, page, per_page)
    total, more = shown_total(filters, total)
    pages = max(1, (total + per_page - 1) // per_page)
    base_args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    return render_template("public/_need_list_body.html",
                           groups=_groups(needs, labels, not filters.q), empty=not needs,
                           total=total, page=page, base_args=base_args, more=more, pages=pages,
                           per_page=per_page, filters=filters, choices=_choices(labels, filters))


@bp.route("/needs/<int:need_id>")
@for_anonymous_visitors
def need_detail(need_id):
    page = need_page(need_id)
    if page is None:
        abort(404)
    user = getattr(g, "user", None)
    offer, mine = proposal_offer(user, page)
    contact = page.contact if can_see_contact(user, page) else None
    return render_template("public/need_detail.html", page=page, offer=offer, mine=mine,
                           contact=contact)
