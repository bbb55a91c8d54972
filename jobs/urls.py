from django.urls import path

from jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:pk>/status", views.job_status, name="status"),
    # --- the job center (issue 11) ---------------------------------------------------------
    path("poll", views.job_list_poll, name="list_poll"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/cancel", views.job_cancel, name="cancel"),
    path("<int:pk>/retry", views.job_retry, name="retry"),
]
