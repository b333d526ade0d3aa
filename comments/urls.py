from django.urls import path

from comments import decision_unsubscribe, profiles, unsubscribe, views

app_name = "comments"

urlpatterns = [
    path("articles/<slug:slug>/comments/", views.comment_post, name="post"),
    path("articles/<slug:slug>/comments/<int:pk>/reply/", views.comment_reply, name="reply"),
    path("articles/<slug:slug>/comments/<int:pk>/report/", views.comment_report, name="report"),
    path(
        "comments/confirm/<str:token>/", views.guest_comment_confirm, name="confirm"
    ),
    path("accounts/profile/", profiles.commenter_settings, name="settings"),
    path("comments/unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
    path(
        "comments/published-mail/<str:token>/",
        decision_unsubscribe.decision_mail_stop,
        name="decision_mail_stop",
    ),
    path("readers/<slug:handle>/", profiles.CommenterProfileView.as_view(), name="profile"),
]
