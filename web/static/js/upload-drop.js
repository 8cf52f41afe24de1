// Drag and drop onto the upload form's file input: a file dropped anywhere on the box is put
// into the same <input type="file">, which the form sends as usual. Without this script the
// input still works (and takes a drop on the input itself).
(function () {
  "use strict";
  document.querySelectorAll("[data-drop-target]").forEach(function (box) {
    var input = document.getElementById(box.getAttribute("data-drop-target"));
    var shown = box.querySelector(".portal-drop__name");
    if (!input) { return; }
    function show() {
      if (shown) {
        shown.textContent = input.files && input.files.length ? "Chosen: " + input.files[0].name : "";
      }
    }
    ["dragenter", "dragover"].forEach(function (type) {
      box.addEventListener(type, function (event) {
        event.preventDefault();
        box.classList.add("portal-drop--over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      box.addEventListener(type, function () { box.classList.remove("portal-drop--over"); });
    });
    box.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
    input.addEventListener("change", show);
  });
})();
