from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from imsportal.accounts.roles import APPROVER, OPERATOR
from imsportal.projects.access import projects_for


def switch_url(request, slug: str) -> str:
    """The same kind of page in another project: the same list, or the list of the same
    app when the page names an object (an image id means nothing in another project)."""
    match = request.resolver_match
    if match and "project_slug" in match.kwargs:
        names = [match.view_name, f"{match.namespace}:list"]
        if set(match.kwargs) != {"project_slug"}:
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
    return {
        "project": current,
        "user_projects": [(p, switch_url(request, p.slug)) for p in projects_for(user)],
        "can_change": OPERATOR in roles,
        "can_approve": APPROVER in roles,
    }
