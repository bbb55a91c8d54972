import os

from django.core.wsgi import get_wsgi_application

# Assigned, not defaulted: importing the imsportal package already defaults it to the portal.
os.environ["DJANGO_SETTINGS_MODULE"] = "imsportal.localcloud.settings"
application = get_wsgi_application()
