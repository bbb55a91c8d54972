from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from imsportal.health.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="images:list"), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("images/", include("images.urls")),
    path("jobs/", include("jobs.urls")),
    path("admin/", admin.site.urls),
]
