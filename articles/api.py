"""The read-only JSON API: articles and their discussions, as other tools consume them.

The shapes are a contract: a missing text field is null, never "".
"""

from django.core.paginator import InvalidPage, Paginator
from django.http import JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from articles.models import Article
from comments.selectors import comment_tree_page
from newsroom.conditional_get import revalidated

ARTICLES_PER_PAGE = 20


def _not_found(message: str = "not found") -> JsonResponse:
    return JsonResponse({"error": message}, status=404)


def _page_url(request, number: int) -> str:
    query = request.GET.copy()
    query["page"] = number
    return request.build_absolute_uri(f"{request.path}?{urlencode(sorted(query.items()))}")


def _paging(request, page) -> dict:
    """The count of a paged list and the addresses of its next and previous pages."""
    return {
        "count": page.paginator.count,
        "next": _page_url(request, page.next_page_number()) if page.has_next() else None,
        "previous": (
            _page_url(request, page.previous_page_number()) if page.has_previous() else None
        ),
    }


@require_safe
@revalidated
def article_list(request):
    paginator = Paginator(Article.objects.listing(request.GET.get("q", "")), ARTICLES_PER_PAGE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        return _not_found("no such page")
    return JsonResponse(
        {
            **_paging(request, page),
            "results": [
                {
                    "slug": article.slug,
                    "title": article.title,
                    "published_at": article.published_at,
                    "url": request.build_absolute_uri(article.get_absolute_url()),
                    "api_url": request.build_absolute_uri(
                        reverse("articles:api_detail", kwargs={"slug": article.slug})
                    ),
                    "comment_count": article.visible_comment_count,
                }
                for article in page.object_list
            ],
        }
    )


@require_safe
@revalidated
def article_detail(request, slug):
    article = Article.objects.published().with_comment_counts().filter(slug=slug).first()
    if article is None:
        return _not_found()

    def permalink(pk: int) -> str:
        return request.build_absolute_uri(
            reverse("articles:comment_permalink", kwargs={"slug": article.slug, "pk": pk})
        )

    try:
        page, threads = comment_tree_page(
            article=article, page_number=request.GET.get("page") or 1, permalink=permalink
        )
    except InvalidPage:
        return _not_found("no such page")
    return JsonResponse(
        {
            "slug": article.slug,
            "title": article.title,
            "published_at": article.published_at,
            "url": request.build_absolute_uri(article.get_absolute_url()),
            **{
                name: getattr(article, name) or None
                for name in ("publication", "volume", "issue", "byline", "location", "agency")
            },
            "captions": list(article.captions),
            "body": [{"type": block["type"], "text": block["text"]} for block in article.body],
            "discussion_policy": article.discussion_policy or None,
            "comments_open": article.discussion_open(),
            "comment_count": article.visible_comment_count,
            # A page of top-level threads, each with all its replies, as the page pages them.
            "comments": {**_paging(request, page), "results": threads},
        },
        json_dumps_params={"ensure_ascii": False},
    )
