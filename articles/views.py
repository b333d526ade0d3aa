from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.utils.safestring import mark_safe
from django.views.generic import DetailView, ListView

from articles.models import Article
from articles.page_cache import (
    DISCUSSION_AT,
    ArticleCopies,
    article_discussion,
    cached_article_page,
    framed_page,
)
from comments.models import Comment
from comments.selectors import SORTS, thread_page_number
from comments.session import own_pending_ids


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
        copies = ArticleCopies.current(self.kwargs["slug"], published_article_id)
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
        own_pending = own_pending_ids(self.request.session)
        context["own_pending"] = (
            Comment.objects.for_article(self.object)
            .filter(pk__in=own_pending, status=Comment.Status.PENDING)
            .order_by("pk")
            if own_pending
            else ()
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


article_detail = cached_article_page(published_article_id)(ArticleDetailView.as_view())


def comment_permalink(request, slug, pk):
    """Send a comment's link to the article page that shows its thread, at the comment.

    Only a comment the reader may see has a link that leads somewhere: a hidden one answers
    404 like a missing one, so the answer tells nobody which hidden comments exist.
    """
    shown = Q(status=Comment.Status.PUBLISHED) | Q(
        status=Comment.Status.PENDING, pk__in=own_pending_ids(request.session)
    )
    comment = get_object_or_404(
        Comment.objects.filter(shown).select_related("article"),
        pk=pk,
        article__slug=slug,
        article__in=Article.objects.published(),
    )
    page = thread_page_number(comment)
    query = f"?page={page}" if page > 1 else ""
    return redirect(f"{comment.article.get_absolute_url()}{query}#comment-{comment.pk}")
