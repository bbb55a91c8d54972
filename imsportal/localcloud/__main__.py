"""``python -m imsportal.localcloud <command>``: manage.py for the local cloud."""

import os
import sys

from django.core.management import execute_from_command_line

# Its database holds live tokens and AK/SK secrets, its folders image data: everything it
# creates is the owner's alone (files 0600, folders 0700).
os.umask(0o077)
os.environ["DJANGO_SETTINGS_MODULE"] = "imsportal.localcloud.settings"
execute_from_command_line([f"{sys.executable} -m imsportal.localcloud", *sys.argv[1:]])
