from django.urls import path

from images.views import inbox, lists, members

app_name = "images"
urlpatterns = [
    path("", lists.image_list, name="list"),
    path("cloud/", lists.cloudimage_list, name="cloudimages"),
]

# --- sharing (issue 10): members, inbox, outbox, bulk share ---------------------------------
urlpatterns += [
    path("shared/", inbox.inbox, name="shared"),
    path("shared/answer/", inbox.answer, name="answer"),
    path("outbox/", members.outbox, name="outbox"),
    path("share/", members.bulk_share, name="bulk_share"),
    path("<str:image_id>/members/", members.members, name="members"),
    path("<str:image_id>/members/add/", members.add_members, name="member_add"),
    path("<str:image_id>/members/make-shared/", members.make_image_shared, name="make_shared"),
    path(
        "<str:image_id>/members/<str:member_id>/remove/",
        members.remove_member,
        name="member_remove",
    ),
]
