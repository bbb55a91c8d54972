"""Error bodies in each service's own format."""

import html

from django.http import HttpResponse, JsonResponse

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def glance_error(request, status: int, explanation: str, headers: dict | None = None):
    """A webob-style error: HTML unless the client asks for JSON (as Glance does)."""
    title = REASONS.get(status, "Error")
    accept = request.headers.get("Accept", "*/*")
    if "application/json" in accept and "text/html" not in accept:
        body = {
            "message": f"{explanation}<br /><br />\n\n\n",
            "code": f"{status} {title}",
            "title": title,
        }
        resp = JsonResponse(body, status=status)
    elif accept.startswith("text/plain"):
        resp = HttpResponse(
            f"{status} {title}\n\n{explanation}\n\n", status=status, content_type="text/plain"
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


def keystone_error(status: int, message: str, public_url: str = ""):
    title = REASONS.get(status, "Error")
    resp = JsonResponse(
        {"error": {"code": status, "title": title, "message": message}}, status=status
    )
    if status == 401:
        resp["WWW-Authenticate"] = f'Keystone uri="{public_url}/identity"'
    return resp
