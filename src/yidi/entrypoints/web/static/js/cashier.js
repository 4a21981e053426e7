// The cashier's print pages: the print button prints the page (no inline handlers).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
