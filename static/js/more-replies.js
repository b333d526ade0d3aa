// "Show N more replies": put the whole thread in place of the thread cut on the page, from the
// link's data-fragment (the thread's markup as the thread's own page shows it), and move focus
// to the first reply that was hidden. Without this script, or when the request fails, the link
// opens the thread's page.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    var link = event.target.closest("a.more-replies-link");
    var root = link && document.getElementById("comment-" + link.dataset.threadId);
    var thread = root && root.closest("li.comment-item");
    if (!thread || !link.dataset.fragment || !window.fetch) {
      return;
    }
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") {
      return;
    }
    link.setAttribute("aria-busy", "true");
    var before = new Set();
    thread.querySelectorAll("article.comment").forEach(function (comment) {
      before.add(comment.id);
    });
    fetch(link.dataset.fragment, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("answered " + response.status);
        }
        return response.text();
      })
      .then(function (markup) {
        var template = document.createElement("template");
        template.innerHTML = markup;
        var loaded = template.content.querySelector("li.comment-item");
        if (!loaded) {
          throw new Error("no thread in the answer");
        }
        thread.replaceWith(loaded);
        var first = Array.prototype.find.call(
          loaded.querySelectorAll("article.comment"),
          function (comment) {
            return !before.has(comment.id);
          }
        );
        if (first) {
          first.tabIndex = -1;
          first.focus();
        }
      })
      .catch(function () {
        window.location.assign(link.href);
      });
  });
})();
