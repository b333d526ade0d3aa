from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, ListView

from articles.models import Article
from comments.models import Comment


class ArticleListView(ListView):
    paginate_by = 20

    def get_queryset(self):
        return Article.objects.published().with_comment_counts()


class ArticleDetailView(DetailView):
    def get_queryset(self):
        return Article.objects.published().with_comment_counts()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["comments"] = Comment.objects.for_article(self.object).visible()
        return context


def comment_permalink(request, slug, pk):
    comment = get_object_or_404(
        Comment.objects.select_related("article"), pk=pk, article__slug=slug
    )
    return redirect(f"{comment.article.get_absolute_url()}#comment-{comment.pk}")
