// The step-by-step filing, enhanced: the documents step shows only the part of the chosen way
// (documents or the personal promise), and a link of the error summary puts the focus on its
// field (on the first region select when the picker has replaced the text box).
(function () {
  "use strict";
  var choice = document.querySelector("[data-proof-choice]");
  if (choice) {
    var parts = document.querySelectorAll("[data-proof]");
    var show = function () {
      var chosen = choice.querySelector("input:checked");
      Array.prototype.forEach.call(parts, function (part) {
        part.hidden = Boolean(chosen) && part.getAttribute("data-proof") !== chosen.value;
      });
    };
    choice.addEventListener("change", show);
    show();
  }
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
      if (!link) {
        return;
      }
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (target && target.type === "hidden") {
        target = document.getElementById(target.id + "-province") || target;
      }
      if (target && target.focus) {
        event.preventDefault();
        target.focus();
        if (target.scrollIntoView) {
          target.scrollIntoView({ block: "center" });
        }
      }
    });
  }
})();
