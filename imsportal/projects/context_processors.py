from __future__ import annotations

import functools

from django.urls import NoReverseMatch, reverse

from imsportal.accounts.roles import APPROVER, OPERATOR, VIEWER
from imsportal.projects.access import projects_and_roles


def switch_url(request, slug: str, roles: frozenset[str] = frozenset({VIEWER})) -> str:
    """The same kind of page in another project: the same page, or the list of the same app
    when the page names an object (an image id means nothing in another project) or needs a
    role the user does not hold there (``roles``: theirs in the other project)."""
    match = request.resolver_match
    if match and "project_slug" in match.kwargs:
        names = [match.view_name, f"{match.namespace}:list"]
        needed = getattr(match.func, "required_role", VIEWER)
        if set(match.kwargs) != {"project_slug"} or (needed != VIEWER and needed not in roles):
            names = names[1:]
        for name in names:
            try:
                return reverse(name, kwargs={"project_slug": slug})
            except NoReverseMatch:
                continue
    return reverse("images:list", kwargs={"project_slug": slug})


def project(request):
    """The request's project, the user's roles in it and the switcher's choices.

    The roles only show or hide controls; every view checks them on the server.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request, "project", None)
    roles = getattr(request, "project_roles", frozenset())

    @functools.cache  # once per request, however often the template asks
    def switcher() -> list:
        # Called by the template only where it shows the header: a polled status fragment
        # does not pay for its query (the template engine calls callables).
        return [(p, switch_url(request, p.slug, held)) for p, held in projects_and_roles(user)]

    return {
        "project": current,
        "user_projects": switcher,
        "can_change": OPERATOR in roles,
        "can_approve": APPROVER in roles,
    }
