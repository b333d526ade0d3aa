from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from newsroom import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Browsers and feed readers ask for /favicon.ico whatever the page links; a temporary
    # redirect, since the static file's name changes with its content.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg")), name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # The article page first: it is the page most requested, and each pattern tried before
    # it costs time on every request (no path matches patterns of both).
    path("", include("articles.urls")),
    path("", include("comments.urls")),
]

handler400 = "newsroom.views.bad_request"
