from functools import wraps

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, ListView

from articles.cache import article_page_versions
from articles.models import Article
from articles.page_cache import (
    DISCUSSION_AT,
    ArticleCopies,
    article_discussion,
    cached_article_page,
    framed_page,
    has_messages,
    local_pages,
)
from comments.models import Comment
from comments.rendering import discussion_html, own_pending_html
from comments.selectors import (
    SORTS,
    default_sort,
    moderator_thread_items,
    own_pending_comments,
    reply_cut,
    thread_items,
    thread_page_number,
)
from comments.session import own_pending_ids
from newsroom.redis_cache import CACHE_ERRORS

# The order of the threads a reader picked last, for the pages that do not name one.
SORT_COOKIE = "comments_sort"
SORT_COOKIE_MAX_AGE = 365 * 24 * 3600


class ArticleListView(ListView):
    paginate_by = 20

    def get_queryset(self):
        return Article.objects.listing(self.request.GET.get("q", ""))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["query"] = " ".join(self.request.GET.get("q", "").split())
        if context["is_paginated"]:
            page = context["page_obj"]
            context["page_range"] = page.paginator.get_elided_page_range(page.number)
        return context


class ArticleDetailView(DetailView):
    """The article and its discussion; the discussion comes from the page cache when it may
    (articles/page_cache.py), and what is the reader's own is rendered around it."""

    template_name = "articles/article_detail.html"

    def get_queryset(self):
        return Article.objects.published().with_comment_counts()

    def get(self, request, *args, **kwargs):
        copies = ArticleCopies.current(
            self.kwargs["slug"], published_article_id, exact=has_messages(request)
        )
        self.object = copies.article(self.get_object) if copies else self.get_object()
        self.discussion = article_discussion(request, self.object, copies)
        canonical = _canonical_query(request, self.discussion.page_number)
        if canonical is not None:
            return redirect(f"{request.path}{canonical}")
        context = self.get_context_data(object=self.object)
        framed = framed_page(
            request, self.get_template_names(), context, copies, self.discussion
        )
        if framed is not None:
            return framed
        response = self.render_to_response(context)
        # The page cache joins the discussion in where the template leaves DISCUSSION_AT.
        response.discussion_body = self.discussion.body
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["discussion_html"] = mark_safe(DISCUSSION_AT)  # noqa: S308 (a constant)
        context["discussion_json_ld"] = self.discussion.json_ld
        context["discussion_page_number"] = self.discussion.page_number
        context["discussion_page_count"] = self.discussion.page_count
        context["own_pending_html"] = own_pending_html(
            own_pending_comments(article=self.object, ids=own_pending_ids(self.request.session))
        )
        return context


def _canonical_query(request, page_number: int) -> str | None:
    """The query string to send the reader to when theirs asks for a page that does not exist
    (beyond the last, 0, not a number) or an unknown order; None when theirs is fine."""
    if not request.META.get("QUERY_STRING"):
        return None
    params = request.GET.copy()
    page, sort = params.get("page"), params.get("sort")
    wrong_page = page is not None and page != str(page_number)
    wrong_sort = sort is not None and sort not in SORTS
    if not (wrong_page or wrong_sort):
        return None
    if page_number > 1:
        params["page"] = str(page_number)
    else:
        params.pop("page", None)
    if wrong_sort:
        params.pop("sort")
    query = params.urlencode()
    return f"?{query}" if query else ""


def published_article_id(slug: str) -> int | None:
    return Article.objects.published().filter(slug=slug).values_list("pk", flat=True).first()


def reader_sort(request) -> str:
    """The order of the threads this reader sees when the address names none: the one they
    picked last, else the default."""
    kept = request.COOKIES.get(SORT_COOKIE)
    return kept if kept in SORTS else default_sort()


def sort_settled(request) -> bool:
    """Whether `remembered_sort` leaves this request as it is: it neither sends the reader to
    the order they keep nor remembers a new one."""
    asked = request.GET.get("sort")
    if asked is None:
        return reader_sort(request) == default_sort()
    return asked not in SORTS or asked == request.COOKIES.get(SORT_COOKIE)


def remembered_sort(view):
    """Remember the order a reader picks (any address with a known `?sort=`), and send a reader
    whose remembered order is not the default from an address without `?sort=` to the one
    with it.

    The redirect comes before the page cache: every copy is kept under the order its address
    names, so a reader never gets a copy in another reader's order.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        asked = request.GET.get("sort")
        kept = request.COOKIES.get(SORT_COOKIE)
        if asked is None and request.method in ("GET", "HEAD"):
            sort = reader_sort(request)
            if sort != default_sort():
                params = request.GET.copy()
                params["sort"] = sort
                response = redirect(f"{request.path}?{params.urlencode()}")
                patch_cache_control(response, private=True)
                patch_vary_headers(response, ["Cookie"])
                return response
        response = view(request, *args, **kwargs)
        if asked in SORTS and asked != kept and response.status_code == 200:
            response.set_cookie(
                SORT_COOKIE,
                asked,
                max_age=SORT_COOKIE_MAX_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    return wrapper


article_detail = remembered_sort(
    cached_article_page(published_article_id)(ArticleDetailView.as_view())
)


def is_moderator(user) -> bool:
    """Whether `user` moderates comments: staff who may view them in the admin."""
    return user.is_authenticated and user.is_staff and user.has_perm("comments.view_comment")


def comment_permalink(request, slug, pk):
    """Send a comment's link to the article page that shows its thread, at the comment.

    Only a comment the reader may see has a link that leads somewhere: a hidden one answers
    404 like a missing one, so the answer tells nobody which hidden comments exist. A
    moderator sees a hidden one in its thread, on a page of its own (`hidden_comment`).
    """
    own_pending = own_pending_ids(request.session)
    shown = Q(status=Comment.Status.PUBLISHED) | Q(
        status=Comment.Status.PENDING, pk__in=own_pending
    )
    comments = Comment.objects.select_related("article")
    if is_moderator(request.user):
        comments = comments.filter(shown | ~Q(status=Comment.Status.PUBLISHED))
    else:
        comments = comments.filter(shown)
    comment = get_object_or_404(
        comments, pk=pk, article__slug=slug, article__in=Article.objects.published()
    )
    if comment.status != Comment.Status.PUBLISHED and comment.pk not in own_pending:
        return hidden_comment(request, comment)
    if reply_cut(comment, own_pending=own_pending):
        root = Comment.objects.only("pk").get(tree_id=comment.tree_id, parent=None)
        url = reverse("articles:thread", kwargs={"slug": slug, "pk": root.pk})
        return redirect(f"{url}#comment-{comment.pk}")
    sort = reader_sort(request)
    params = {}
    if sort != default_sort():
        params["sort"] = sort
    page = thread_page_number(comment, sort)
    if page > 1:
        params["page"] = page
    query = f"?{urlencode(params)}" if params else ""
    return redirect(f"{comment.article.get_absolute_url()}{query}#comment-{comment.pk}")


def hidden_comment(request, comment):
    """A hidden comment (awaiting moderation, removed, spam) for a moderator: its whole thread
    as readers see it, with this comment shown in place and marked. Rendered for this request
    only: never a shared copy, never kept by a browser or a proxy."""
    article = comment.article
    context = {
        "article": article,
        "comment": comment,
        "thread_html": discussion_html(moderator_thread_items(comment), article=article),
        "admin_url": reverse("admin:comments_comment_change", args=[comment.pk]),
    }
    response = render(request, "articles/hidden_comment.html", context)
    patch_cache_control(response, private=True, no_store=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def _thread(request, slug, pk):
    """The article and the whole thread whose top-level comment is `pk`, as this reader may
    see it (their own pending replies too); 404 when there is nothing of it to show."""
    article = get_object_or_404(Article.objects.published(), slug=slug)
    items = thread_items(article=article, root_id=pk, own_pending=own_pending_ids(request.session))
    if not items:
        raise Http404("No such thread.")
    return article, items


@require_safe
def thread_detail(request, slug, pk):
    """A thread with every reply: where "Show N more replies" leads without JavaScript."""
    article, items = _thread(request, slug, pk)
    root = items[0]
    context = {
        "article": article,
        "root": root,
        "reply_count": root.reply_count,
        "thread_html": discussion_html(items, article=article),
        "back_url": reverse("articles:comment_permalink", kwargs={"slug": slug, "pk": pk}),
    }
    return render(request, "articles/thread_detail.html", context)


@require_safe
def thread_replies(request, slug, pk):
    """The whole thread's markup alone, as the thread page shows it, for
    static/js/comments.js to put in place of the thread cut on the article page."""
    article, items = _thread(request, slug, pk)
    response = HttpResponse(discussion_html(items, article=article))
    patch_vary_headers(response, ["Cookie"])
    patch_cache_control(response, private=True)
    return response


@require_safe
def comment_count(request, slug):
    """How many comments the article's page shows, for static/js/new-comments.js to poll.

    The ETag is the article's page version (articles/cache.py), which every change readers
    would see bumps: a client holding it gets 304 from one read of the cache and no query (the
    slug's article is remembered by the process, as for the page cache). With the cache away
    there is no version, and the count is read each time.
    """
    article_id = local_pages.article_id(slug, published_article_id)
    if article_id is None:
        return JsonResponse({"error": "not found"}, status=404)
    try:
        epoch, version = article_page_versions(article_id)
    except CACHE_ERRORS:
        page_version = None
    else:
        page_version = f"{epoch}.{version}"
        not_modified = get_conditional_response(request, etag=f'"{page_version}"')
        if not_modified is not None:
            not_modified["ETag"] = f'"{page_version}"'
            return _fresh_each_time(not_modified)
    count = Comment.objects.filter(article_id=article_id).visible().count()
    response = JsonResponse({"version": page_version, "count": count})
    if page_version:
        response["ETag"] = f'"{page_version}"'
    return _fresh_each_time(response)


def _fresh_each_time(response):
    # Asked again on every poll: the answer changes with every comment.
    patch_cache_control(response, no_cache=True)
    return response
