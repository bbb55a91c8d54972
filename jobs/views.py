"""Jobs pages: the list, and the status fragment that htmx polls while a job runs."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from imsportal.accounts.roles import VIEW
from jobs.models import Job


@permission_required(VIEW, raise_exception=True)  # first: no role is 403 whatever the method
@require_GET
def job_list(request):
    jobs = Job.objects.all()[:100]
    return render(request, "jobs/job_list.html", {"jobs": jobs})


@permission_required(VIEW, raise_exception=True)  # first: no role is 403 whatever the method
@require_GET
def job_status(request, pk: int):
    """The status fragment; reads the portal's database only, never the cloud."""
    job = get_object_or_404(Job, pk=pk)
    response = render(request, "includes/_job_status.html", {"job": job})
    if job.is_done:
        # 286 tells htmx to stop polling; the final fragment has no hx-trigger either.
        return HttpResponseStopPolling(response.content)
    return response
