// After a refused submit the focus goes to the first field in error (or the form's own error
// message), not the page body, so keyboard and screen-reader users land where to act.
(function () {
  "use strict";
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
