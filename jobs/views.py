"""Jobs pages: the list, and the status fragment that htmx polls while a job runs."""

from django.shortcuts import get_object_or_404, render
from django_htmx.http import HttpResponseStopPolling

from imsportal.projects.access import project_view
from jobs.models import Job


@project_view()
def job_list(request, project):
    jobs = Job.objects.filter(project=project)[:100]
    return render(request, "jobs/job_list.html", {"jobs": jobs})


@project_view()
def job_status(request, project, pk: int):
    """The status fragment; reads the portal's database only, never the cloud."""
    # A job of another project is a 404 here, even for a user with a role there.
    job = get_object_or_404(Job, pk=pk, project=project)
    response = render(request, "includes/_job_status.html", {"job": job})
    if job.is_done:
        # 286 tells htmx to stop polling; the final fragment has no hx-trigger either.
        return HttpResponseStopPolling(response.content)
    return response
