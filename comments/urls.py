from django.urls import path

from comments import profiles, unsubscribe, views

app_name = "comments"

urlpatterns = [
    path("articles/<slug:slug>/comments/", views.comment_post, name="post"),
    path("articles/<slug:slug>/comments/<int:pk>/reply/", views.comment_reply, name="reply"),
    path("articles/<slug:slug>/comments/<int:pk>/report/", views.comment_report, name="report"),
    path(
        "articles/<slug:slug>/comments/<int:pk>/recommend/",
        views.comment_recommend,
        name="recommend",
    ),
    path(
        "articles/<slug:slug>/comments/recommended/",
        views.recommended_by_reader,
        name="recommended",
    ),
    path(
        "comments/confirm/<str:token>/", views.guest_comment_confirm, name="confirm"
    ),
    path("accounts/profile/", profiles.commenter_settings, name="settings"),
    path("comments/unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
    path("readers/<slug:handle>/", profiles.CommenterProfileView.as_view(), name="profile"),
]
