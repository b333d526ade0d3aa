from django.contrib.admin import AdminSite


class NewsroomAdminSite(AdminSite):
    site_header = "Newsroom moderation"
    site_title = "Newsroom admin"
    index_title = "Articles and discussions"
