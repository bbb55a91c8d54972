from __future__ import annotations

from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "imsportal.health"
    label = "health"
    verbose_name = "Health"
