// The page layout's small enhancements; the page works without them (no inline script: the
// Content-Security-Policy forbids it).
// 1. On a narrow screen the menu folds behind one button (open without script).
// 2. Each cell of a list table carries its column's name (data-label), so on a narrow screen a
//    row reads as a card of "label: value" lines; the template's own data-label wins.
// 3. A refused form's error summary takes the focus.
(function () {
  "use strict";
  var header = document.querySelector(".site-header");
  var toggle = document.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (header && toggle && menu) {
    var narrow = window.matchMedia("(max-width: 720px)");
    var setOpen = function (open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    };
    header.classList.add("menu-folds");
    toggle.hidden = false;
    setOpen(false);
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && narrow.matches) {
        setOpen(false);
        toggle.focus();
      }
    });
  }
  // 3. After a refused submit, focus goes to the list of what is missing (not the body).
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
  }
  var tables = document.querySelectorAll(".stack-cards table");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = [];
    var headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) {
      return;
    }
    Array.prototype.forEach.call(headRow.cells, function (cell) {
      var span = cell.colSpan || 1;
      for (var i = 0; i < span; i += 1) {
        heads.push(cell.textContent.replace(/\s+/g, " ").trim());
      }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && heads[column]) {
            cell.setAttribute("data-label", heads[column]);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  });
})();
