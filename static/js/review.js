// The review screen's keys: a decision per keystroke, the next comment swapped in place.
// Every key presses one of the page's own buttons or links, which work without this script.
(function () {
  "use strict";
  const main = document.getElementById("review-main");
  const live = document.getElementById("review-live");
  const keys = document.getElementById("review-keys");
  if (!main || !live || !window.fetch) return;

  let busy = false;
  let choosingReason = false;

  function say(text) {
    // A change of text is what screen readers announce: clear it first so a repeat is heard.
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function review() { return main.querySelector(".review"); }

  function show(data) {
    main.innerHTML = data.html;
    if (data.url) window.history.replaceState(null, "", data.url);
    if (data.announce) say(data.announce);
    const heading = document.getElementById("review-heading");
    if (heading) heading.focus({ preventScroll: false });
    choosingReason = false;
  }

  function load(request) {
    if (busy) return;
    busy = true;
    document.body.classList.add("review-busy");
    request
      .then(function (response) {
        if (response.status === 503) {
          say("The discussion is busy: nothing was changed. Try again in a few seconds.");
          return null;
        }
        if (!response.ok && response.status !== 400) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) { if (data) show(data); })
      .catch(function () { say("That did not work: reload the page and try again."); })
      .finally(function () {
        busy = false;
        document.body.classList.remove("review-busy");
      });
  }

  function go(url) {
    if (!url) return;
    const separator = url.indexOf("?") === -1 ? "?" : "&";
    load(fetch(url + separator + "fragment=1", {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    }));
  }

  function submit(form, submitter) {
    const data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    data.set("fragment", "1");
    // Not form.action: the form's button named "action" shadows that property.
    load(fetch(form.getAttribute("action"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { Accept: "application/json" },
    }));
  }

  // Buttons and links of the screen, clicked, do the same without a page load.
  main.addEventListener("submit", function (event) {
    event.preventDefault();
    submit(event.target, event.submitter);
  });
  main.addEventListener("click", function (event) {
    const link = event.target.closest("a[href]");
    if (!link || link.origin !== window.location.origin) return;
    if (link.pathname !== window.location.pathname || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    go(link.href);
  });

  function press(key) {
    const button = main.querySelector('button[data-key="' + key + '"]:not([disabled])');
    if (!button) return false;
    submit(button.form, button);
    return true;
  }

  function chooseReason(on) {
    const form = document.getElementById("review-remove");
    if (!form) return;
    choosingReason = on;
    form.classList.toggle("review-choosing", on);
    if (on) say("Remove: press the number of the reason, 1 to 9 or 0. Escape cancels.");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (target.closest && target.closest("#review-block form")) return;
    const current = review();
    const key = event.key;
    if (choosingReason) {
      event.preventDefault();
      const radio = main.querySelector('input[data-digit="' + key + '"]');
      if (radio) {
        radio.checked = true;
        const form = document.getElementById("review-remove");
        submit(form, form.querySelector('button[value="remove"]'));
      } else {
        chooseReason(false);
        if (key === "Escape") say("Removal cancelled.");
      }
      return;
    }
    let handled = true;
    switch (key) {
      case "a": case "s":
        handled = press(key);
        break;
      case "u":
        if (!press("u")) say("There is no decision to undo.");
        break;
      case "f":
        if (!press("f")) say("There is no comment to feature.");
        break;
      case "r":
        if (current && current.dataset.comment) chooseReason(true);
        break;
      case "b": {
        const block = document.getElementById("review-block");
        if (block) {
          block.open = true;
          const first = block.querySelector("form input:not([type=hidden])");
          if (first) first.focus();
        }
        break;
      }
      case "j":
        if (current && current.dataset.next) go(current.dataset.next);
        else say("This is the last comment of the queue.");
        break;
      case "k":
        if (current && current.dataset.previous) go(current.dataset.previous);
        else say("This is the first comment of the queue.");
        break;
      case "?":
        if (keys) {
          keys.open = !keys.open;
          if (keys.open) keys.querySelector("summary").focus();
        }
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  });

  // Escape in the block form closes it and gives the keys back.
  main.addEventListener("keydown", function (event) {
    const block = event.target.closest && event.target.closest("#review-block");
    if (event.key === "Escape" && block) {
      block.open = false;
      block.querySelector("summary").focus();
    }
  });
})();
