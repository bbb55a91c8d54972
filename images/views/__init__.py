"""Images views, one module per topic: lists.py (the image and cloud image lists),
members.py (an image's members, the outbox, bulk sharing), inbox.py (offers to the project
and across projects). Each project-scoped view is a ``project_view``: see
imsportal/projects/access.py."""
