from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from articles.models import Article
from comments.models import Comment


@require_POST
def comment_post(request, slug):
    get_object_or_404(Article.objects.published(), slug=slug)
    return HttpResponse(status=501)


@require_GET
def comment_reply(request, slug, pk):
    get_object_or_404(Comment.objects.visible(), pk=pk, article__slug=slug)
    return HttpResponse(status=501)


@require_http_methods(["GET", "POST"])
def comment_report(request, slug, pk):
    get_object_or_404(Comment.objects.visible(), pk=pk, article__slug=slug)
    return HttpResponse(status=501)
