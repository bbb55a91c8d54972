from django.urls import path

from images.views import lists

app_name = "images"
urlpatterns = [
    path("", lists.image_list, name="list"),
    path("shared/", lists.shared_with_me, name="shared"),
    path("cloud/", lists.cloudimage_list, name="cloudimages"),
]
