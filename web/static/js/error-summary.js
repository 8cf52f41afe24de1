// USWDS error pattern: a page that refused a form moves the focus to its error summary,
// so a screen reader announces the problems first. Without this script the summary is
// still the first thing in the page's main content.
(function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
