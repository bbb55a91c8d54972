"""``python -m imsportal.localcloud <command>``: manage.py for the local cloud."""

import os
import sys

from django.core.management import execute_from_command_line

os.environ["DJANGO_SETTINGS_MODULE"] = "imsportal.localcloud.settings"
execute_from_command_line([f"{sys.executable} -m imsportal.localcloud", *sys.argv[1:]])
