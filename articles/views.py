from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, ListView

from articles.models import Article
from articles.page_cache import cached_article_page
from comments.models import Comment
from comments.selectors import discussion_page, thread_page_number
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
    def get_queryset(self):
        return Article.objects.published().with_comment_counts()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["discussion"] = discussion_page(
            article=self.object,
            page_number=self.request.GET.get("page"),
            sort=self.request.GET.get("sort"),
            own_pending=own_pending_ids(self.request.session),
        )
        return context


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
