"""Template helpers of the image pages: sizes with exact bytes on hover, owner names, and
links that keep the list's URL state while changing one or two parameters."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

from django import template
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from images.templatetags.cloudtext import _INVISIBLE

register = template.Library()

# A queued image has no data yet: Glance says size null, IMS says 0. Both show "–".
_NO_DATA = frozenset({"queued"})

# The pages of one image that a list row links to, by URL name in the ``images`` namespace.
IMAGE_LINKS = (
    "detail", "row", "edit", "delete", "deactivate", "reactivate", "tags", "tag_remove", "members"
)  # fmt: skip
_ANY_ID = "00000000-0000-0000-0000-000000000000"


@register.simple_tag
def size(value: Any, status: str = "") -> str:
    """``64.0 KB`` with the exact byte count in a tooltip, or ``–`` when there is no data."""
    if value in (None, "") or status in _NO_DATA:
        return mark_safe('<span title="no data yet">–</span>')  # a constant, nothing from the cloud
    try:
        count = int(value)
    except (TypeError, ValueError):
        return format_html("{}", value)
    return format_html(
        '<span title="{} bytes" class="size">{}</span>', f"{count:,}", filesizeformat(count)
    )


@functools.lru_cache(maxsize=256)
def _link_patterns(slug: str, script_prefix: str, urlconf: str | None) -> dict[str, str]:
    # The script prefix and URLconf are part of the key only: reverse() reads them per thread.
    return {name: reverse(f"images:{name}", args=[slug, _ANY_ID]) for name in IMAGE_LINKS}


@register.simple_tag(takes_context=True)
def image_links(context, image_id: str) -> dict[str, str]:
    """``{% image_links image.id as links %}``: ``links.edit``, ``links.tags``, … for one image.

    A page of rows would reverse some ten URLs a row; these differ only in the image id, so
    each name is reversed once per project (with a stand-in id) and the row's id put in."""
    patterns = _link_patterns(context["project"].slug, get_script_prefix(), get_urlconf())
    quoted = quote(str(image_id), safe="")
    return {name: url.replace(_ANY_ID, quoted) for name, url in patterns.items()}


@register.simple_tag
def filter_bar(form, action: str, target: str) -> str:
    """A list's filter bar (``includes/_filters.html``) for ``form``, sending to ``action``
    and updating ``#target``.

    Django renders each widget through a template: the twenty-odd fields of the images bar
    cost about as much as the rest of a page without rows. The bar depends only on the form's
    class and data, so for a form whose choices never change (``FIXED_CHOICES``) it is
    rendered once per distinct query and then reused."""
    if not getattr(form, "FIXED_CHOICES", False):
        return _render_filter_bar(form, action, target)
    data = tuple(sorted((key, tuple(values)) for key, values in form.data.lists()))
    return _cached_filter_bar(type(form), data, action, target)


def _render_filter_bar(form, action: str, target: str) -> str:
    context = {"form": form, "action": action, "target": target}
    return render_to_string("includes/_filters.html", context)


@functools.lru_cache(maxsize=128)
def _cached_filter_bar(form_class, data: tuple, action: str, target: str) -> str:
    query = QueryDict(mutable=True)
    for key, values in data:
        query.setlist(key, list(values))
    return _render_filter_bar(form_class(query), action, target)


@register.simple_tag
def owner(owner_id: str | None, owners: dict | None, mine: str = "") -> str:
    """The owner's portal project name where the portal knows it, else its id."""
    if not owner_id:
        return "–"
    project = (owners or {}).get(owner_id)
    if project is not None:
        return format_html('<span title="{}">{}</span>', owner_id, project.name)
    return format_html('<code title="project id">{}</code>', owner_id)


@register.simple_tag
def query(params: QueryDict, **changes: Any) -> str:
    """``?…`` with ``changes`` applied to ``params`` (``None`` or ``""`` drops a key)."""
    q = params.copy()
    for key, value in changes.items():
        q.pop(key, None)
        if value not in (None, ""):
            q[key] = str(value)
    for key in [k for k, v in q.items() if v == ""]:
        q.pop(key)
    encoded = q.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def prop(properties: dict | None, key: str) -> Any:
    """A property whose name a template cannot spell (IMS's ``__`` attributes)."""
    return (properties or {}).get(key, "")


@register.filter
def shown_controls(value: Any) -> str:
    """Plain text for attributes (``title``): invisible and bidi controls as ``[U+XXXX]``,
    so a tooltip cannot be spoofed either (the ``cloudtext`` filter does this for markup)."""
    return _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(value or ""))
