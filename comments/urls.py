from django.urls import path

from comments import (
    data_download,
    decision_unsubscribe,
    editing,
    erasure_views,
    profiles,
    unsubscribe,
    views,
)

app_name = "comments"

urlpatterns = [
    path("articles/<slug:slug>/comments/", views.comment_post, name="post"),
    path("articles/<slug:slug>/comments/<int:pk>/reply/", views.comment_reply, name="reply"),
    path("articles/<slug:slug>/comments/<int:pk>/report/", views.comment_report, name="report"),
    path("articles/<slug:slug>/comments/<int:pk>/edit/", editing.comment_edit, name="edit"),
    path(
        "articles/<slug:slug>/comments/<int:pk>/delete/", editing.comment_delete, name="delete"
    ),
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
    path("accounts/erase/", erasure_views.account_erase, name="account_erase"),
    path("comments/erase/", erasure_views.guest_erase_request, name="guest_erase"),
    path(
        "comments/erase/<str:token>/", erasure_views.guest_erase_confirm, name="guest_erase_confirm"
    ),
    path("accounts/profile/", profiles.commenter_settings, name="settings"),
    path("comments/unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
    path(
        "accounts/profile/data/", data_download.account_data_download, name="account_data"
    ),
    path("comments/my-data/", data_download.data_request, name="data_request"),
    path("comments/my-data/sent/", data_download.data_request_sent, name="data_request_sent"),
    path(
        "comments/my-data/<str:token>/",
        data_download.guest_data_download,
        name="data_download",
    ),
    path(
        "comments/published-mail/<str:token>/",
        decision_unsubscribe.decision_mail_stop,
        name="decision_mail_stop",
    ),
    path("readers/<slug:handle>/", profiles.CommenterProfileView.as_view(), name="profile"),
]
