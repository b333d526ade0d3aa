from django.urls import path

from articles import views

app_name = "articles"

urlpatterns = [
    path("", views.ArticleListView.as_view(), name="list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path(
        "articles/<slug:slug>/comments/<int:pk>/",
        views.comment_permalink,
        name="comment_permalink",
    ),
]
