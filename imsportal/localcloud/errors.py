"""Error bodies in each service's own format."""

from __future__ import annotations

import html

from django.http import HttpRequest, HttpResponse, JsonResponse

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _accept_q(accept: str, offer: str) -> float:
    """The quality the Accept header gives ``offer`` (its most specific matching range)."""
    best: tuple[int, float] = (-1, 0.0)
    main = offer.split("/")[0]
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media == offer:
            rank = 2
        elif media == f"{main}/*":
            rank = 1
        elif media == "*/*":
            rank = 0
        else:
            continue
        if rank > best[0]:
            best = (rank, q)
    return best[1]


def negotiate(request: HttpRequest) -> str:
    """webob's choice of error format: text/html first, then JSON, else plain text."""
    accept = request.headers.get("Accept", "").strip()
    if not accept:
        return "text/html"
    scored = [(_accept_q(accept, offer), offer) for offer in ("text/html", "application/json")]
    q, offer = max(scored, key=lambda item: item[0])  # max() keeps the first on a tie
    return offer if q > 0 else "text/plain"


def glance_error(
    request: HttpRequest, status: int, explanation: str, headers: dict | None = None
) -> HttpResponse:
    """A webob-style error: HTML unless the client asks for JSON (as Glance does)."""
    title = REASONS.get(status, "Error")
    kind = negotiate(request)
    if kind == "application/json":
        body = {
            "message": f"{explanation}<br /><br />\n\n\n",
            "code": f"{status} {title}",
            "title": title,
        }
        resp: HttpResponse = JsonResponse(body, status=status)
    elif kind == "text/plain":
        resp = HttpResponse(
            f"{status} {title}\n\n{explanation}\n\n\n",
            status=status,
            content_type="text/plain; charset=UTF-8",
        )
    else:
        text = (
            f"<html>\n <head>\n  <title>{status} {title}</title>\n </head>\n <body>\n"
            f"  <h1>{status} {title}</h1>\n  {html.escape(explanation)}<br /><br />\n\n\n\n"
            " </body>\n</html>"
        )
        resp = HttpResponse(text, status=status, content_type="text/html; charset=UTF-8")
    for key, value in (headers or {}).items():
        resp[key] = value
    return resp


def keystone_error(
    status: int, message: str, public_url: str = "", title: str | None = None
) -> JsonResponse:
    title = title or REASONS.get(status, "Error")
    resp = JsonResponse(
        {"error": {"code": status, "title": title, "message": message}}, status=status
    )
    if status == 401:
        resp["WWW-Authenticate"] = f'Keystone uri="{public_url}/identity"'
    return resp


def gateway_unauthorized(request: HttpRequest, reason: str) -> JsonResponse:
    """The API gateway's flat 401 for a refused AK/SK signature or missing credentials."""
    return JsonResponse(
        {
            "error_code": "APIGW.0301",
            "error_msg": f"Incorrect IAM authentication information: {reason}",
            "request_id": getattr(request, "request_id", ""),
        },
        status=401,
    )


def ims_error(status: int, code: str, message: str) -> JsonResponse:
    """IMS's ``{"error": {"code": "IMG.xxxx", "message": …}}``."""
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)
