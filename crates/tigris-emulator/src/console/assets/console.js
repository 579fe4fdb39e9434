// Live updates for the tigris-emulator console: every 2 s, while the "live" box is ticked and
// the tab is visible, the page is fetched again and its <main> swapped in. The server escapes
// every value it renders; this script only moves the parsed markup over (DOMParser runs no
// script), so no text from the store is ever evaluated.
(function () {
  "use strict";
  var PERIOD = 2000;
  var refreshed = 0;
  function schedule() { window.setTimeout(tick, PERIOD); }
  function tick() {
    var live = document.getElementById("live");
    if (!live || !live.checked || document.visibilityState === "hidden") {
      schedule();
      return;
    }
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.text() : null; })
      .then(function (text) {
        if (text === null) { return; }
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("content");
        var current = document.getElementById("content");
        if (fresh && current) {
          current.replaceWith(document.importNode(fresh, true));
          refreshed += 1;
          document.body.setAttribute("data-refreshed", String(refreshed));
          var stamp = document.getElementById("stamp");
          if (stamp) { stamp.textContent = "updated " + new Date().toLocaleTimeString(); }
        }
      })
      .catch(function () { /* the emulator stopped: try again later */ })
      .then(schedule);
  }
  document.body.setAttribute("data-refreshed", "0");
  schedule();
})();
