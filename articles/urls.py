from django.urls import path

from articles import api, feeds, views

app_name = "articles"

urlpatterns = [
    path("", views.ArticleListView.as_view(), name="list"),
    path("articles/<slug:slug>/", views.article_detail, name="detail"),
    path(
        "articles/<slug:slug>/comments/<int:pk>/",
        views.comment_permalink,
        name="comment_permalink",
    ),
    path("articles/<slug:slug>/comments/count/", views.comment_count, name="comment_count"),
    path("articles/<slug:slug>/threads/<int:pk>/", views.thread_detail, name="thread"),
    path(
        "articles/<slug:slug>/threads/<int:pk>/replies/",
        views.thread_replies,
        name="thread_replies",
    ),
    path(
        "articles/<slug:slug>/comments/feed/",
        feeds.ArticleCommentsFeed(),
        name="comments_feed",
    ),
    path(
        "articles/<slug:slug>/picks/feed/",
        feeds.ArticlePicksFeed(),
        name="picks_feed",
    ),
    path("feeds/articles/", feeds.LatestArticlesFeed(), name="feed"),
    path("api/articles/", api.article_list, name="api_list"),
    path("api/articles/<slug:slug>/", api.article_detail, name="api_detail"),
]
