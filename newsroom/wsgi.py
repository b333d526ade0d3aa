import os

from django.core.wsgi import get_wsgi_application

from newsroom.checks import refuse_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

application = get_wsgi_application()

# A WSGI server runs no system checks: refuse to start on a bad setting
# (newsroom/checks.py) rather than answer every request with a 500.
refuse_errors()
