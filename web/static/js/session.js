// Counts down to the end of the session on pages that say when it ends. The page says
// it in words without this script; this only adds the minutes left.
(function () {
  var notice = document.getElementById("session-notice");
  var out = document.getElementById("session-countdown");
  if (!notice || !out) { return; }
  // the seconds left as the portal counted them when it sent the page: a computer whose
  // clock is off still counts the right minutes
  var ends = Date.now() + parseInt(notice.getAttribute("data-left"), 10) * 1000;
  function tick() {
    var left = Math.max(0, Math.round((ends - Date.now()) / 60000));
    out.textContent = left > 0 ? "(" + left + " min left)" : "(it has ended: reload to sign in)";
  }
  tick();
  setInterval(tick, 30000);
}());
