"""Public need list and detail: published needs only, no contact data for anonymous visitors."""
from flask import abort, g, render_template, request

from ..need_list import (
    NeedFilters,
    can_see_contact,
    filter_options,
    page_of_needs,
    published_need,
    shown_total,
)
from ..workflows.docking import proposal_offer
from . import bp

PAGE_SIZES = (20, 50, 100)


@bp.route("/needs")
def need_list():
    filters = NeedFilters.from_args(request.args)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    per_page = request.args.get("per_page", "50")
    per_page = int(per_page) if per_page.isdigit() and int(per_page) in PAGE_SIZES else 50
    needs, total = page_of_needs(filters, page, per_page)
    total, more = shown_total(filters, total)
    pages = max(1, (total + per_page - 1) // per_page)
    base_args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    return render_template("public/needs.html", needs=needs, total=total, page=page,
                           base_args=base_args, more=more,
                           pages=pages, per_page=per_page, filters=filters,
                           options=filter_options(), grouped=not filters.q)


@bp.route("/needs/<int:need_id>")
def need_detail(need_id):
    need = published_need(need_id)
    if need is None:
        abort(404)
    user = getattr(g, "user", None)
    offer, mine = proposal_offer(user, need)
    return render_template("public/need_detail.html", need=need,
                           show_contact=can_see_contact(user, need), offer=offer, mine=mine)
