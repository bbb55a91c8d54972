# Roles are granted per cloud project: see imsportal/projects/models.py (ProjectRole).
