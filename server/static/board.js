// The live board. The page is whole without this script; with it, the board follows the trail's
// event stream row by row: each event names its job, and only the rows of the jobs events named
// are fetched (as the server renders them, so money is formatted in one place) and swapped in,
// or taken out when they no longer match the filters. A device's event also refreshes the
// technicians' last syncs. Once a minute (how long ago things happened) and after the stream
// says `reset` (it missed too much to replay), the page's part is fetched again: one page,
// never the whole board.
(function () {
  "use strict";
  var board = document.getElementById("board");
  var live = document.getElementById("live");
  var news = document.getElementById("news");
  if (!board || !window.EventSource || !window.fetch) return;

  var MAX_ROWS = 50;  // the server's limit on rows asked for at once
  var changed = {};
  var technicians = false;
  var whole = false;
  var pending = null;
  var busy = false;

  function say(text, down) {
    live.hidden = false;
    live.textContent = text;
    live.classList.toggle("down", !!down);
  }

  // The page's own query (filters, page) is what every fetch asks about.
  function query(extra) {
    var params = new URLSearchParams(window.location.search);
    Object.keys(extra || {}).forEach(function (name) { params.set(name, extra[name]); });
    var text = params.toString();
    return text ? "?" + text : "";
  }

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(function (response) {
      if (response.status === 401) { window.location.reload(); return null; }
      if (!response.ok) throw new Error(url + " " + response.status);
      return response.text();
    });
  }

  function parsed(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    return holder.content;
  }

  function focusedKey() {
    var focused = document.activeElement;
    var row = focused && board.contains(focused) ? focused.closest("[data-key]") : null;
    return row ? row.dataset.key : null;
  }

  function refocus(key) {
    if (!key) return;
    var link = board.querySelector('[data-key="' + key + '"] a');
    if (link) link.focus();
  }

  function swapRows(html) {
    var key = focusedKey();
    var tbody = board.querySelector("table.jobs tbody");
    parsed(html).querySelectorAll("tr[data-key]").forEach(function (row) {
      var shown = document.getElementById(row.id);
      var matches = row.dataset.match === "yes";
      row.removeAttribute("data-match");
      if (shown && matches) {
        if (shown.textContent !== row.textContent) row.classList.add("fresh");
        shown.replaceWith(row);
      } else if (shown) {
        shown.remove();
      } else if (matches && tbody) {
        news.hidden = false;  // a job this page does not show now belongs here: offer a reload
      }
    });
    refocus(key);
  }

  function swapTechnicians(html) {
    var section = document.getElementById("techs");
    if (section) section.innerHTML = html;
  }

  function swapPage(html) {
    var key = focusedKey();
    var before = {};
    board.querySelectorAll("tr[data-key]").forEach(function (row) { before[row.dataset.key] = row.textContent; });
    board.innerHTML = html;
    board.querySelectorAll("tr[data-key]").forEach(function (row) {
      if (before[row.dataset.key] !== undefined && before[row.dataset.key] !== row.textContent) row.classList.add("fresh");
    });
    news.hidden = true;
    refocus(key);
  }

  function flush() {
    pending = null;
    if (busy) { soon(); return; }
    var ids = Object.keys(changed);
    var work = [];
    if (whole || ids.length > MAX_ROWS) {
      work.push(get(board.dataset.page + query()).then(function (html) { if (html !== null) swapPage(html); }));
    } else {
      if (ids.length) {
        var rows = board.dataset.rows + query({ ids: ids.join(",") });
        work.push(get(rows).then(function (html) { if (html !== null) swapRows(html); }));
      }
      if (technicians) {
        work.push(get(board.dataset.techs).then(function (html) { if (html !== null) swapTechnicians(html); }));
      }
    }
    changed = {};
    technicians = false;
    whole = false;
    if (!work.length) return;
    busy = true;
    Promise.all(work)
      .catch(function () { say("Live updates paused", true); })
      .then(function () { busy = false; });
  }

  function soon() {
    if (pending === null) pending = window.setTimeout(flush, 150);
  }

  var source = new EventSource(board.dataset.events);
  source.addEventListener("open", function () { say("Live"); });
  source.addEventListener("trail", function (event) {
    try {
      var data = JSON.parse(event.data);
      if (data.jobId) changed[data.jobId] = true;
      if (data.actor && data.actor.kind === "device") technicians = true;
    } catch (err) {
      whole = true;
    }
    soon();
  });
  source.addEventListener("reset", function () { whole = true; soon(); });
  source.addEventListener("error", function () {
    say("Reconnecting…", true);
    if (source.readyState === EventSource.CLOSED) { whole = true; soon(); }  // refused (logged out?): the fetch will tell
  });
  window.setInterval(function () { whole = true; soon(); }, 60000);
})();
