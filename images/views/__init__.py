"""Images views, one module per topic: lists.py (the image, shared-with-me and cloud image
lists). Each view is a ``project_view``: see imsportal/projects/access.py."""
