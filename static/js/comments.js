// The discussion's enhancements. Each one improves markup that already works without this
// script (comments/rendering.py, comments/form_html.py):
// - comment dates read "2 hours ago" (the page holds the absolute date, true in any cached copy);
// - "Read more" is hidden where a long comment fits its fold after all;
// - the composer folds to its text box until focused, and counts characters near the limit;
// - "Reply" opens the form under the comment's actions instead of the reply page;
// - "Share" copies the comment's stable link instead of following it;
// - the confirmation of what the reader just did moves to the comment it concerns;
// - the reader's own comments get "Edit" (while it may be edited) and "Delete".
(function () {
  "use strict";

  var announcer = null;

  // One polite live region for short news ("Link copied"): a region that exists before its
  // text changes is announced, one inserted with its text often is not.
  function announce(text) {
    if (!announcer) {
      announcer = document.createElement("p");
      announcer.className = "visually-hidden";
      announcer.setAttribute("role", "status");
      document.body.appendChild(announcer);
    }
    announcer.textContent = "";
    window.setTimeout(function () {
      announcer.textContent = text;
    }, 50);
  }

  // Dates -------------------------------------------------------------------------------------

  var WEEK = 7 * 24 * 3600;
  var UNITS = [["day", 24 * 3600], ["hour", 3600], ["minute", 60]];
  var relative = window.Intl && Intl.RelativeTimeFormat
    ? new Intl.RelativeTimeFormat("en", { numeric: "auto" })
    : null;

  // A week or more keeps the date itself: "3 Nov 2026, 14:02" says more than "5 weeks ago".
  function relativeText(date) {
    var seconds = (Date.now() - date.getTime()) / 1000;
    if (seconds < 45) {
      return "just now";
    }
    for (var i = 0; i < UNITS.length; i++) {
      if (seconds >= UNITS[i][1]) {
        return relative.format(-Math.floor(seconds / UNITS[i][1]), UNITS[i][0]);
      }
    }
    return relative.format(-1, "minute");
  }

  function datesUpdate() {
    document.querySelectorAll(".comment-header time[datetime], .comment-meta time[datetime]")
      .forEach(function (time) {
        var date = new Date(time.getAttribute("datetime"));
        if (!time.dataset.absolute) {
          time.dataset.absolute = time.textContent;
        }
        var age = (Date.now() - date.getTime()) / 1000;
        time.textContent = isNaN(age) || age >= WEEK ? time.dataset.absolute : relativeText(date);
      });
  }

  if (relative) {
    datesUpdate();
    window.setInterval(function () {
      if (!document.hidden) {
        datesUpdate();
      }
    }, 60 * 1000);
  }

  // Long comments -----------------------------------------------------------------------------

  document.querySelectorAll(".comment-more").forEach(function (more) {
    var body = more.previousElementSibling;
    if (body && body.scrollHeight <= body.clientHeight + 2) {
      body.classList.remove("comment-body--long");
      more.hidden = true;
    }
  });

  // The character counter ---------------------------------------------------------------------

  var NEAR_LIMIT = 500;
  var SPOKEN_AT = [500, 200, 100, 50, 20, 0];

  function counterAdd(form) {
    var textarea = form.querySelector("textarea[maxlength]");
    if (!textarea) {
      return;
    }
    var limit = textarea.maxLength;
    var shown = document.createElement("p");
    shown.className = "char-count";
    shown.setAttribute("aria-hidden", "true");
    shown.hidden = true;
    // Screen readers hear the count at a few steps, not at every keystroke.
    var spoken = document.createElement("p");
    spoken.className = "char-count-spoken visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    textarea.insertAdjacentElement("afterend", spoken);
    textarea.insertAdjacentElement("afterend", shown);
    var lastStep = null;
    function update() {
      var left = limit - textarea.value.length;
      var text = left === 1 ? "1 character left" : left.toLocaleString("en") + " characters left";
      shown.hidden = left > NEAR_LIMIT;
      shown.textContent = text;
      shown.classList.toggle("char-count--low", left <= 100);
      var step = null;
      SPOKEN_AT.forEach(function (mark) {
        if (left <= mark) {
          step = mark;
        }
      });
      if (step !== lastStep) {
        spoken.textContent = step === null ? "" : text;
        lastStep = step;
      }
    }
    textarea.addEventListener("input", update);
    update();
  }

  // The composer ------------------------------------------------------------------------------

  var composer = document.querySelector("form.comment-composer");
  if (composer) {
    var composerBody = composer.elements.namedItem("body");
    var untouched = !composer.querySelector(".field-error, .form-errors") && !composerBody.value;
    if (untouched) {
      composer.classList.add("is-compact");
      composer.addEventListener("focusin", function (event) {
        if (!event.target.classList.contains("comment-form-feedback")) {
          composer.classList.remove("is-compact");
        }
      });
      composer.addEventListener("click", function (event) {
        if (composer.classList.contains("is-compact") && event.target === composer) {
          composerBody.focus();
        }
      });
    }
  }
  document.querySelectorAll("form.comment-form").forEach(counterAdd);

  // Inline replies ----------------------------------------------------------------------------

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

  function replyHeader(author) {
    var header = document.createElement("div");
    header.className = "reply-header";
    var title = document.createElement("p");
    title.className = "reply-title";
    title.id = "reply-title";
    title.append("Replying to ");
    var name = document.createElement("strong");
    name.textContent = author;
    title.appendChild(name);
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "reply-close";
    dismiss.setAttribute("aria-label", "Cancel reply to " + author);
    dismiss.textContent = "×";
    dismiss.addEventListener("click", function () {
      close(true);
    });
    header.append(title, dismiss);
    return header;
  }

  function replyForm(template, commentId, link) {
    var author = link.dataset.author || "this comment";
    var form = template.cloneNode(true);
    form.classList.remove("comment-composer", "is-compact");
    form.classList.add("comment-form-inline");
    form.removeAttribute("aria-labelledby");
    form.querySelectorAll(
      ".comment-form-heading, .comment-form-feedback, .form-errors, .errorlist, " +
      ".char-count, .char-count-spoken"
    ).forEach(function (element) {
      element.remove();
    });
    form.querySelectorAll(".field-error").forEach(function (element) {
      element.classList.remove("field-error");
    });
    form.querySelectorAll("[aria-invalid], [autofocus]").forEach(function (element) {
      element.removeAttribute("aria-invalid");
      element.removeAttribute("autofocus");
    });
    form.prepend(replyHeader(author));
    renameIds(form, "-reply-" + commentId);
    form.setAttribute("aria-labelledby", "reply-title-reply-" + commentId);
    form.elements.namedItem("parent").value = commentId;
    form.elements.namedItem("body").value = "";

    var submit = form.querySelector("button[type=submit]:not([form])");
    submit.textContent = "Post reply";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "reply-cancel button-secondary";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () {
      close(true);
    });
    submit.insertAdjacentElement("afterend", cancel);

    form.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        close(true);
      }
    });
    counterAdd(form);
    return form;
  }

  // The first field still to fill in: the comment, or the name or email of a guest whom the
  // browser does not remember.
  function firstEmpty(form) {
    var fields = ["body", "name", "email"].map(function (name) {
      return form.elements.namedItem(name);
    }).filter(function (field) {
      return field && field.type !== "hidden";
    });
    return fields.filter(function (field) {
      return !field.value;
    })[0] || fields[0];
  }

  function replyOpen(event, link) {
    var commentId = link.dataset.commentId;
    var comment = document.getElementById("comment-" + commentId);
    var template = document.querySelector("#comments form.comment-form:not(.comment-form-inline)");
    if (!comment || !template) {
      return;
    }
    event.preventDefault();
    if (open && open.link === link) {
      firstEmpty(open.form).focus();
      return;
    }
    close(false);
    var form = replyForm(template, commentId, link);
    var anchor = comment.querySelector(".comment-actions") || comment.querySelector(".comment-body");
    anchor.insertAdjacentElement("afterend", form);
    link.setAttribute("aria-expanded", "true");
    open = { form: form, link: link };
    firstEmpty(form).focus();
  }

  // Share -------------------------------------------------------------------------------------

  function share(event, link) {
    if (!navigator.clipboard || !window.isSecureContext) {
      return;
    }
    event.preventDefault();
    navigator.clipboard.writeText(link.href).then(function () {
      if (!link.dataset.label) {
        link.dataset.label = link.innerHTML;
      }
      link.textContent = "Link copied";
      link.classList.add("is-copied");
      announce("Link copied");
      window.clearTimeout(link.restoreTimer);
      link.restoreTimer = window.setTimeout(function () {
        link.innerHTML = link.dataset.label;
        link.classList.remove("is-copied");
      }, 4000);
    }, function () {
      window.location.href = link.href;
    });
  }

  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    var link = event.target.closest("a.reply-link, a.share-link");
    if (!link) {
      return;
    }
    if (link.classList.contains("reply-link")) {
      replyOpen(event, link);
    } else {
      share(event, link);
    }
  });

  // The reader's own comments ------------------------------------------------------------------

  // The discussion is the same for every reader, so it cannot say which comments are this
  // reader's. The signed comments_own cookie lists them as "<id>-<edit deadline>" entries
  // (comments/ownership.py); the server checks every edit and deletion itself.
  function ownComments() {
    var match = document.cookie.match(/(?:^|;\s*)comments_own="?([^";]*)/);
    if (!match) {
      return [];
    }
    var value = match[1].slice(0, match[1].lastIndexOf(":"));
    return value.split(".").map(function (entry) {
      var parts = entry.split("-");
      return { id: parts[0], until: Number(parts[1]) * 1000 };
    });
  }

  function ownAction(actions, href, text) {
    var link = document.createElement("a");
    link.className = "own-link";
    link.href = href;
    link.textContent = text;
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " your comment";
    link.appendChild(hidden);
    actions.appendChild(link);
  }

  ownComments().forEach(function (own) {
    var comment = document.getElementById("comment-" + own.id);
    var actions = comment && comment.querySelector(".comment-actions");
    var share = actions && actions.querySelector(".share-link");
    if (!share) {
      return;
    }
    if (Date.now() < own.until) {
      ownAction(actions, share.getAttribute("href") + "edit/", "Edit");
    }
    ownAction(actions, share.getAttribute("href") + "delete/", "Delete");
  });

  // Feedback where the reader acted -----------------------------------------------------------

  // Focus reads a confirmation out and keeps the reader at it. It waits for the page's load:
  // the browser's scroll to the #comment-N of the address moves the focus away first.
  function focusOnLoad(element, scroll) {
    function focus() {
      window.setTimeout(function () {
        if (scroll) {
          element.scrollIntoView({ block: "center" });
        }
        element.focus({ preventScroll: true });
      }, 0);
    }
    if (document.readyState === "complete") {
      focus();
    } else {
      window.addEventListener("load", focus);
    }
  }

  // The page lists the confirmations of what this reader just did (comments/feedback.py); the
  // discussion itself is the same for everyone, so each is moved to its comment here.
  document.querySelectorAll(".messages [data-feedback]").forEach(function (message) {
    var parts = message.dataset.feedback.split(":");
    var comment = document.getElementById("comment-" + parts[1]);
    if (!comment) {
      return;
    }
    var placed;
    if (parts[0] === "reported") {
      placed = document.createElement("span");
      placed.className = "comment-feedback";
      placed.textContent = "Reported — thank you";
      var report = comment.querySelector(".report-link");
      if (report) {
        report.replaceWith(placed);
      } else {
        comment.appendChild(placed);
      }
    } else if (parts[0] === "posted" || parts[0] === "recommended") {
      placed = document.createElement("p");
      placed.className = message.className;
      // The server's own markup: the message's text, escaped, and the link to edit it.
      placed.innerHTML = message.innerHTML;
      var anchor = parts[0] === "posted" ? ".comment-header" : ".comment-actions";
      comment.querySelector(anchor).insertAdjacentElement("afterend", placed);
    } else {
      return;
    }
    placed.setAttribute("role", "status");
    placed.tabIndex = -1;
    var list = message.parentElement;
    message.remove();
    if (!list.children.length) {
      list.remove();
    }
    focusOnLoad(placed);
  });

  var held = document.querySelector(".comment-form-feedback");
  if (held) {
    // The address points at the held comment, in the reader's own block under the form: the
    // confirmation above it is brought into view with it.
    focusOnLoad(held, true);
  }

  // Errors: the first field in error has the focus (autofocus), and on the report page too.
  if (document.activeElement === document.body || document.activeElement === null) {
    var invalid = document.querySelector(
      ".field-error input:not([type=hidden]), .field-error textarea"
    );
    if (invalid) {
      invalid.focus();
    }
  }
})();
