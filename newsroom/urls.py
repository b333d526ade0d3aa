from django.contrib import admin
from django.urls import include, path

from newsroom import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("comments.urls")),
    path("", include("articles.urls")),
]

handler400 = "newsroom.views.bad_request"
