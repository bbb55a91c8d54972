"""Who is calling the image host: a Keystone token (``X-Auth-Token``) or an AK/SK signature.

Both answers are a ``Token``: the stored one for a token, an unsaved one (empty id,
method ``aksk``) for a signature, so views read ``user``, ``project_id`` and ``roles``
the same way either way.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone

from imsportal.localcloud import aksk
from imsportal.localcloud.models import Token


def valid_token(token_id: str | None, allow_expired_for: timedelta | None = None) -> Token | None:
    """The token if it is live: not revoked, not expired (or expired less than
    ``allow_expired_for`` ago), its user, domain and project still enabled."""
    if not token_id or len(token_id) > 128:
        return None
    token = (
        Token.objects.select_related("user", "project", "user__domain", "project__domain")
        .filter(id=token_id, revoked=False)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.expires_at <= now and (
        allow_expired_for is None or token.expires_at + allow_expired_for <= now
    ):
        return None
    if not token.user.enabled or not token.user.domain.enabled:
        return None
    if token.project is not None and not (token.project.enabled and token.project.domain.enabled):
        return None
    return token


def authenticate_or_reason(request: HttpRequest) -> tuple[Token | None, str]:
    """The caller's project-scoped token, or None and why (for an error body)."""
    if aksk.is_signed(request) and "X-Auth-Token" not in request.headers:
        try:
            verified = aksk.verify(request)
        except aksk.SignatureError as e:
            return None, str(e)
        now = timezone.now()
        key = verified.access_key
        return Token(
            id="",
            user=key.user,
            project=verified.project,
            roles=verified.roles,
            methods=["aksk"],
            issued_at=now,
            expires_at=now + aksk.MAX_SKEW,
        ), ""
    token = valid_token(request.headers.get("X-Auth-Token"))
    if token is None:
        return None, "The request you have made requires authentication."
    if token.project_id is None:
        # Image services need a project-scoped token; an unscoped one is refused.
        return None, "A project-scoped token is required."
    return token, ""


def authenticate(request: HttpRequest) -> Token | None:
    """The caller's project-scoped token (real, or built from a good signature), or None."""
    return authenticate_or_reason(request)[0]
