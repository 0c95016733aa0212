"""Security headers on every response, with a Content-Security-Policy that the pages pass.

Scripts run only from our own origin or, inline, with this request's nonce. FAB's templates
already write ``nonce="{{ baselib.get_nonce() }}"`` on every inline script and call
``csp_nonce()`` when it is defined, so defining it as a Jinja global is all they need (no
Flask-Talisman). Inline ``style=`` attributes are everywhere in FAB's widgets and carry no
script, so styles allow them. Nothing may frame the site (clickjacking).
"""
import secrets

from flask import current_app, g

CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Links carry tokens (/n/<token>): never send a path to another site.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csp_nonce() -> str:
    """This request's nonce, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def init_security_headers(app):
    app.jinja_env.globals["csp_nonce"] = csp_nonce  # a global: imported macros see it too
    app.after_request(add_security_headers)


def add_security_headers(response):
    # A response with its own policy keeps it (a document preview: app/core/documents.py).
    response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SECURITY_HSTS"):
        response.headers.setdefault("Strict-Transport-Security",
                                    "max-age=31536000; includeSubDomains")
    return response
