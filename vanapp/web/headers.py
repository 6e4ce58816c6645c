"""Hardening headers on every response of the van and the hub: a Content-Security-Policy with no
inline script or style except by a per-request nonce, no framing, no MIME sniffing, no referrer
sent to another site.

Set by a WSGI layer around the whole app (not an after_request hook), so answers given before
Flask sees the request (the audience's fast poll) and error pages carry them too. A page that
needs inline content asks `csp_nonce()` while it renders; only then does its policy name a nonce.
"""
import secrets

from flask import has_request_context, request

NONCE_KEY = "vanapp.csp_nonce"

# Everything the app serves is its own: no CDN, no remote font, no call out (PRODUCT.md). Images
# may be data: URIs (none today; a browser's own blank favicon is one); frames are refused both ways.
POLICY = ("default-src 'self'; script-src 'self'{nonce}; style-src 'self'{nonce}; "
          "img-src 'self' data:; font-src 'self'; connect-src 'self'; media-src 'self'; "
          "object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'none'; "
          "frame-ancestors 'none'")
STATIC_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    # same-origin, not no-referrer: Flask-WTF checks the Referer of a form posted over HTTPS (a hub
    # behind a TLS proxy), and nothing here links to another site that should learn our paths
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),            # frame-ancestors, for browsers that predate it
    ("Cross-Origin-Opener-Policy", "same-origin"),
]
_NAMES = {name.lower() for name, _value in STATIC_HEADERS} | {"content-security-policy"}


def csp_nonce() -> str:
    """This response's nonce for an inline <style> or <script> (made on first use); "" outside a
    request (a chart drawn by a test or a script needs none)."""
    if not has_request_context():
        return ""
    environ = request.environ
    nonce = environ.get(NONCE_KEY)
    if nonce is None:
        nonce = environ[NONCE_KEY] = secrets.token_urlsafe(18)
    return nonce


def policy(nonce: str | None) -> str:
    return POLICY.format(nonce=f" 'nonce-{nonce}'" if nonce else "")


class SecurityHeaders:
    """WSGI middleware: add the headers to every response that does not set them itself."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _value in headers}
            if not _NAMES <= present:
                headers = list(headers)
                if "content-security-policy" not in present:
                    headers.append(("Content-Security-Policy", policy(environ.get(NONCE_KEY))))
                headers.extend((n, v) for n, v in STATIC_HEADERS if n.lower() not in present)
            return start_response(status, headers, exc_info)
        return self.wsgi_app(environ, start)


def init_app(app):
    """Call last in create_app, so the layer wraps every other one."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.wsgi_app = SecurityHeaders(app.wsgi_app)
