"""The project's URLs plus /bench/hello/, the floor any Django view served by gunicorn reaches."""

from django.http import HttpResponse
from django.urls import path

from newsroom.urls import urlpatterns as project_urlpatterns


def hello(request):
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [path("bench/hello/", hello), *project_urlpatterns]
