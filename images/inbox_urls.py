"""``/inbox/``: offers to every project where the user is an approver (not project-scoped)."""

from django.urls import path

from images.views import inbox

app_name = "inbox"
urlpatterns = [
    path("", inbox.all_inbox, name="all"),
    path("badge/", inbox.badge, name="badge"),
]
