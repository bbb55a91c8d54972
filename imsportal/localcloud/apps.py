from django.apps import AppConfig


class LocalCloudConfig(AppConfig):
    name = "imsportal.localcloud"
    label = "localcloud"
    verbose_name = "Local cloud (Keystone v3, Glance v2, IMS v2)"
