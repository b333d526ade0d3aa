// Replies inline: a click on a comment's "Reply" link opens a copy of the page's comment form
// right under that comment, instead of following the link to the reply page. Without this
// script (or when the page has no form) the link still works.
(function () {
  "use strict";

  var open = null;

  function close(restoreFocus) {
    if (!open) {
      return;
    }
    open.form.remove();
    open.link.setAttribute("aria-expanded", "false");
    if (restoreFocus) {
      open.link.focus();
    }
    open = null;
  }

  function renameIds(form, suffix) {
    form.querySelectorAll("[id]").forEach(function (element) {
      element.id = element.id + suffix;
    });
    form.querySelectorAll("label[for]").forEach(function (label) {
      label.htmlFor = label.htmlFor + suffix;
    });
    form.querySelectorAll("[aria-describedby]").forEach(function (element) {
      var ids = element.getAttribute("aria-describedby").split(/\s+/);
      element.setAttribute("aria-describedby", ids.map(function (id) {
        return id + suffix;
      }).join(" "));
    });
  }

  function replyForm(template, commentId, link) {
    var form = template.cloneNode(true);
    form.classList.add("comment-form-inline");
    form.querySelectorAll(".form-errors, .errorlist").forEach(function (element) {
      element.remove();
    });
    form.querySelectorAll(".field-error").forEach(function (element) {
      element.classList.remove("field-error");
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (element) {
      element.removeAttribute("aria-invalid");
    });
    renameIds(form, "-reply-" + commentId);
    form.elements.namedItem("parent").value = commentId;
    form.elements.namedItem("body").value = "";

    var submit = form.querySelector("button[type=submit]");
    submit.textContent = "Post reply";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "reply-cancel";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () {
      close(true);
    });
    submit.insertAdjacentElement("afterend", cancel);

    form.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        close(true);
      }
    });
    form.setAttribute("aria-label", "Reply to " + (link.dataset.author || "this comment"));
    return form;
  }

  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    var link = event.target.closest("a.reply-link");
    if (!link) {
      return;
    }
    var commentId = link.dataset.commentId;
    var comment = document.getElementById("comment-" + commentId);
    var body = comment && comment.querySelector(".comment-body");
    var template = document.querySelector("#comments form.comment-form:not(.comment-form-inline)");
    if (!body || !template) {
      return;
    }
    event.preventDefault();
    if (open && open.link === link) {
      open.form.querySelector("textarea").focus();
      return;
    }
    close(false);
    var form = replyForm(template, commentId, link);
    body.insertAdjacentElement("afterend", form);
    link.setAttribute("aria-expanded", "true");
    open = { form: form, link: link };
    form.elements.namedItem("body").focus();
  });
})();
