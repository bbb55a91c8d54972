from django.urls import path

from images import views

app_name = "images"
urlpatterns = [
    path("", views.image_list, name="list"),
    path("shared/", views.shared_with_me, name="shared"),
    path("cloud/", views.cloudimage_list, name="cloudimages"),
]
