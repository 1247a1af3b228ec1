// The live board. The page is whole without this script; with it, the board follows the trail's
// event stream: each event (and each minute, for "not synced for N minutes") fetches the board's
// rows as the server renders them and swaps them in, so money is formatted in one place.
(function () {
  "use strict";
  var board = document.getElementById("board");
  var live = document.getElementById("live");
  if (!board || !window.EventSource || !window.fetch) return;

  var pending = null;
  var busy = false;
  var again = false;

  function say(text, down) {
    live.hidden = false;
    live.textContent = text;
    live.classList.toggle("down", !!down);
  }

  function rowsByKey() {
    var found = {};
    board.querySelectorAll("[data-key]").forEach(function (el) { found[el.dataset.key] = el.textContent; });
    return found;
  }

  function swap(html) {
    var before = rowsByKey();
    var focused = document.activeElement && board.contains(document.activeElement) ? document.activeElement : null;
    var focusKey = focused && focused.closest("[data-key]") ? focused.closest("[data-key]").dataset.key : null;
    board.innerHTML = html;
    board.querySelectorAll("tr[data-key]").forEach(function (row) {
      if (before[row.dataset.key] !== row.textContent) row.classList.add("fresh");
    });
    if (focusKey) {
      var link = board.querySelector('[data-key="' + focusKey + '"] a');
      if (link) link.focus();
    }
  }

  function refresh() {
    pending = null;
    if (busy) { again = true; return; }
    busy = true;
    fetch(board.dataset.rows + window.location.search, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        if (!response.ok) throw new Error("board " + response.status);
        return response.text();
      })
      .then(function (html) { if (html !== null) swap(html); })
      .catch(function () { say("Live updates paused", true); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function soon() {
    if (pending === null) pending = window.setTimeout(refresh, 150);
  }

  var source = new EventSource(board.dataset.events);
  source.addEventListener("open", function () { say("Live"); });
  source.addEventListener("trail", soon);
  source.addEventListener("error", function () {
    say("Reconnecting…", true);
    if (source.readyState === EventSource.CLOSED) refresh();  // refused (logged out?): the fetch will tell
  });
  window.setInterval(soon, 60000);
})();
