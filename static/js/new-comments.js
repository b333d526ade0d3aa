// "3 new comments — Show": while the article is read, ask every data-poll-seconds (30) whether
// comments were published since the page was served. The answer is a 304 while nothing changed
// (the ETag is the article's page version). Nothing is inserted: "Show" reloads the page at
// the discussion when the reader asks. Polling stops while the tab is hidden.
(function () {
  "use strict";

  var notice = document.querySelector("[data-new-comments]");
  if (!notice || !window.fetch) {
    return;
  }
  var url = notice.dataset.url;
  var shown = parseInt(notice.dataset.count, 10) || 0;
  var seconds = parseFloat(notice.dataset.pollSeconds) || 30;
  var etag = null;
  var timer = null;
  var asking = false;
  var announced = 0;

  function announce(count) {
    var fresh = count - shown;
    if (fresh === announced) {
      return;
    }
    announced = fresh;
    notice.textContent = "";
    if (fresh <= 0) {
      return;
    }
    var text = document.createElement("span");
    text.textContent = fresh + " new comment" + (fresh === 1 ? "" : "s") + " — ";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "new-comments-show";
    button.textContent = "Show";
    notice.append(text, button);
  }

  function schedule() {
    if (timer === null && !asking && !document.hidden) {
      timer = window.setTimeout(ask, seconds * 1000);
    }
  }

  function ask() {
    timer = null;
    asking = true;
    var headers = { Accept: "application/json" };
    if (etag) {
      headers["If-None-Match"] = etag;
    }
    fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status !== 200) {
          return null;
        }
        etag = response.headers.get("ETag");
        return response.json().then(function (answer) {
          announce(answer.count);
        });
      })
      .catch(function () {
        // Offline or the server away: ask again at the next turn.
      })
      .then(function () {
        asking = false;
        schedule();
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      window.clearTimeout(timer);
      timer = null;
    } else if (timer === null && !asking) {
      ask();
    }
  });

  notice.addEventListener("click", function (event) {
    if (!event.target.closest(".new-comments-show")) {
      return;
    }
    // To the discussion, not back to where the reader was.
    history.scrollRestoration = "manual";
    history.replaceState(history.state, "", location.pathname + location.search + "#comments");
    location.reload();
  });

  schedule();
})();
