from celery import shared_task


@shared_task(name="jobs.ping", ignore_result=False)
def ping_task() -> str:
    """A round trip through the broker and a worker (used by tests and diagnostics)."""
    return "pong"
