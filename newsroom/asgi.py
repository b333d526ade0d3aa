import os

from django.core.asgi import get_asgi_application

from newsroom.checks import refuse_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

application = get_asgi_application()

# An ASGI server runs no system checks: refuse to start on a bad setting
# (newsroom/checks.py) rather than answer every request with a 500.
refuse_errors()
