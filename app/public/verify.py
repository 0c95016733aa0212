"""``/verify/<code>``: anyone holding a printed document (推荐表, 立项审批表, 项目档案,
服务企业证明) checks its verification code. The page says which kind of document was issued
for which record (its title, the enterprise, the day of issue) and whether the record's key
facts are still those printed; a code nobody was given answers 404 in the site's frame.
Nothing personal: no phone, no identity number, no amount, a certificate's holder with the
given name masked. Limited per address (app/core/access/rate_limits.py)."""
from flask import redirect, render_template, request, url_for

from app.domain.documents import verification
from app.public.blueprint import bp


@bp.route("/verify")
def verify_form():
    """The address printed on the documents without a code: a box to type it in."""
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for("public.verify_document", code=code[:40]))
    return render_template("public/verify.html", found=None, code="")


@bp.route("/verify/<code>")
def verify_document(code):
    found = verification(code)
    response = render_template("public/verify.html", found=found, code=code[:40])
    headers = {"X-Robots-Tag": "noindex", "Cache-Control": "no-store"}
    return (response, 200 if found else 404, headers)
