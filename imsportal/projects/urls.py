from django.urls import path

from imsportal.projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="create"),
    path("<slug:slug>/", views.project_detail, name="detail"),
    path("<slug:slug>/test", views.project_test, name="test"),
    path("<slug:slug>/roles", views.role_grant, name="grant"),
    path("<slug:slug>/roles/<int:pk>/revoke", views.role_revoke, name="revoke"),
]
