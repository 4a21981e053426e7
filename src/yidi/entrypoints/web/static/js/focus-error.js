// After a refused submit the focus goes to the first field in error (or the form's own error
// message), not the page body, so keyboard and screen-reader users land where to act. A page
// with an error summary (the step-by-step filing) puts the focus on the summary, whose links
// lead to each field.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    return;
  }
  var forms = document.querySelectorAll("form[data-focus-error]");
  Array.prototype.some.call(forms, function (form) {
    var target = form.querySelector("[aria-invalid='true']");
    if (!target) {
      var message = document.querySelector(".form-error[role='alert']");
      if (message) {
        if (!message.hasAttribute("tabindex")) {
          message.setAttribute("tabindex", "-1");
        }
        target = message;
      }
    }
    if (target) {
      target.focus();
      return true;
    }
    return false;
  });
})();
