from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "imsportal.projects"
    label = "projects"
    verbose_name = "Cloud projects"
