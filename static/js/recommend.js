// "Recommend" in place. Without this script each button opens the comment's recommend page
// (comments/rendering.py RECOMMEND_HTML); with it the button becomes a toggle (aria-pressed)
// that posts the new state and shows the count the server answers. The discussion is the
// same cached copy for every reader, so which buttons are pressed for this reader is asked
// separately, and only from readers who may have recommended something: a signed-in reader,
// or a browser that recommended before (the comment_recommender cookie, a hint only; the
// server decides who may recommend).
(function () {
  "use strict";

  var HINT = "comment_recommender";
  var state = {};

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : null;
  }

  function countText(count) {
    if (!count) {
      return "";
    }
    var noun = count === 1 ? " recommendation" : " recommendations";
    return count + '<span class="visually-hidden">' + noun + "</span>";
  }

  function show(form, pressed, count) {
    var button = form.querySelector(".recommend-button");
    button.setAttribute("aria-pressed", pressed ? "true" : "false");
    if (count !== undefined) {
      var shown = form.querySelector(".recommend-count");
      shown.dataset.count = String(count);
      shown.innerHTML = countText(count);
    }
  }

  // A refusal shows under the comment's actions, where the reader pressed the button.
  function feedbackOf(form) {
    var actions = form.closest(".comment-actions") || form;
    var next = actions.nextElementSibling;
    return next && next.classList.contains("recommend-feedback") ? next : null;
  }

  function say(form, text, link) {
    var note = feedbackOf(form);
    if (!note) {
      note = document.createElement("p");
      note.className = "recommend-feedback";
      note.setAttribute("role", "status");
      (form.closest(".comment-actions") || form).insertAdjacentElement("afterend", note);
    }
    note.textContent = text + (link ? " " : "");
    if (link) {
      var anchor = document.createElement("a");
      anchor.href = link;
      anchor.textContent = "Sign in";
      note.appendChild(anchor);
    }
  }

  function enhance(root) {
    root.querySelectorAll("form.recommend-form").forEach(function (form) {
      var button = form.querySelector(".recommend-button");
      if (!button.hasAttribute("aria-pressed")) {
        var known = state[button.dataset.commentId];
        show(form, known !== undefined, known);
      }
    });
  }

  var discussion = document.getElementById("comments") || document.querySelector("main");
  if (!discussion || !discussion.querySelector("form.recommend-form")) {
    return;
  }
  enhance(discussion);
  // "Show N more replies" loads buttons later.
  new MutationObserver(function () {
    enhance(discussion);
  }).observe(discussion, { childList: true, subtree: true });

  var first = discussion.querySelector("form.recommend-form");
  var signedIn = document.getElementById("site-signout") !== null;
  if (signedIn || document.cookie.split("; ").indexOf(HINT + "=1") !== -1) {
    var stateUrl = first.action.replace(/\d+\/recommend\/?$/, "recommended/");
    fetch(stateUrl, {
      headers: { Accept: "application/json" },
      cache: "no-store",
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.ok ? response.json() : { recommended: {} };
      })
      .then(function (data) {
        state = data.recommended || {};
        discussion.querySelectorAll("form.recommend-form").forEach(function (form) {
          var id = form.querySelector(".recommend-button").dataset.commentId;
          if (state[id] !== undefined) {
            show(form, true, state[id]);
          }
        });
      })
      .catch(function () {});
  }

  discussion.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.recommend-form")) {
      return;
    }
    var token = csrfToken();
    if (!token) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector(".recommend-button");
    if (button.getAttribute("aria-busy") === "true") {
      return;
    }
    var pressed = button.getAttribute("aria-pressed") !== "true";
    var body = new URLSearchParams({ recommended: pressed ? "1" : "0" });
    button.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: body,
      headers: { Accept: "application/json", "X-CSRFToken": token },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (answer) {
        if (!answer.ok) {
          say(form, answer.data.error || "Your recommendation was not recorded.", answer.data.sign_in_url);
          return;
        }
        var id = button.dataset.commentId;
        if (answer.data.recommended) {
          state[id] = answer.data.count;
          document.cookie = HINT + "=1; max-age=31536000; path=/; samesite=lax";
        } else {
          delete state[id];
        }
        show(form, answer.data.recommended, answer.data.count);
        var note = feedbackOf(form);
        if (note) {
          note.remove();
        }
      })
      .catch(function () {
        say(form, "Your recommendation was not recorded. Try again.");
      })
      .finally(function () {
        button.removeAttribute("aria-busy");
      });
  });
})();
