from django.conf import settings
from django.db import models


class Job(models.Model):
    """Background work the portal follows: an upload, or an IMS create-image job."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", "Upload"
        CREATE = "create", "Create cloud image"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCESS = "success", "Succeeded"
        FAILED = "failed", "Failed"
        TIMED_OUT = "timed_out", "Timed out"

    DONE = (Status.SUCCESS, Status.FAILED, Status.TIMED_OUT)

    project = models.ForeignKey(
        "projects.CloudProject", on_delete=models.PROTECT, related_name="jobs"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    title = models.CharField(max_length=255)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    cloud_job_id = models.CharField(max_length=64, blank=True, default="")
    image_id = models.CharField(max_length=64, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    request_id = models.CharField(max_length=128, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.title}"

    @property
    def is_done(self) -> bool:
        return self.status in self.DONE
