"""The audit page: filters, pages and a CSV export of the same selection.

Superusers see every entry; other users see the entries of the projects they hold a role
in (not logins or other users' portal changes)."""

from __future__ import annotations

import csv
import json

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from imsportal.audit.forms import AuditFilterForm
from imsportal.audit.models import AuditEntry
from imsportal.projects.access import projects_for
from imsportal.projects.models import CloudProject

PAGE_SIZE = 50
CSV_COLUMNS = [
    "at", "username", "client_addr", "project_name", "action", "target_id", "target_name",
    "params", "outcome", "error", "request_id",
]  # fmt: skip


def _visible_entries(request):
    """The entries this user may read, and the projects they may filter by."""
    if request.user.is_superuser:
        return AuditEntry.objects.all(), CloudProject.objects.all()
    projects = projects_for(request.user)
    return AuditEntry.objects.filter(project__in=projects), projects


def _selection(request):
    entries, projects = _visible_entries(request)
    form = AuditFilterForm(request.GET, projects)
    if not form.is_valid():
        return form, entries.none()
    return form, form.filter(entries).select_related(None)


@require_GET
@vary_on_headers("HX-Request")
def audit_list(request):
    form, entries = _selection(request)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    template = "audit/audit_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#audit-rows"
    context = {"form": form, "page": page, "filters": filters.urlencode()}
    return render(request, template, context)


def _cell(value) -> str:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
def audit_export(request):
    """The filtered entries as CSV, streamed (no page limit)."""
    _, entries = _selection(request)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for entry in entries.iterator(chunk_size=500):
            yield writer.writerow(
                [_cell(entry.at.isoformat())]
                + [_cell(getattr(entry, column)) for column in CSV_COLUMNS[1:]]
            )

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return StreamingHttpResponse(
        rows(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )
