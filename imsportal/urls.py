from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from imsportal.health.views import healthz
from imsportal.projects import views as project_views

urlpatterns = [
    path("", project_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", project_views.logout_view, name="logout"),
    path("healthz", healthz, name="healthz"),
    # The cloud project is part of every project-scoped URL: see projects/access.py.
    path("p/<slug:project_slug>/images/", include("images.urls")),
    path("p/<slug:project_slug>/jobs/", include("jobs.urls")),
    # Sharing (issue 10): the inbox across every project where the user is an approver.
    path("inbox/", include("images.inbox_urls")),
    path("projects/", include("imsportal.projects.urls")),
    path("audit/", include("imsportal.audit.urls")),
    path("admin/", admin.site.urls),
]
