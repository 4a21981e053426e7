// The manual reimbursement pages, enhanced: everything here also works without JavaScript
// (the buttons post the form and the server answers the same page).
// - intake form: the lookup button asks for the person panel in place; a hospital name
//   from the directory hides the region and level that only a typed hospital needs;
// - receipts: 添加一行 / 删除 act in the page instead of posting;
// - the notice: the print button prints.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });

  var form = document.getElementById("claim-form");
  if (form && window.fetch) {
    var lookupButton = document.getElementById("lookup-button");
    var idField = document.getElementById("id_number");
    lookupButton.addEventListener("click", function (event) {
      event.preventDefault();
      var body = new URLSearchParams();
      body.set("id_number", idField.value);
      body.set("csrf_token", form.querySelector("input[name='csrf_token']").value);
      fetch(form.getAttribute("data-lookup-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString(),
      })
        .then(function (response) {
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var panel = holder.querySelector("#person-lookup");
          var old = document.getElementById("person-lookup");
          if (panel && old) {
            old.replaceWith(panel);
            idField.setAttribute("aria-invalid", panel.querySelector("#person-lookup-error") ? "true" : "false");
          }
        });
    });

    var hospital = document.getElementById("hospital_name");
    var fallback = document.getElementById("hospital-fallback");
    var listed = document.getElementById("hospital-listed");
    var options = document.querySelectorAll("#hospital-directory option");
    var template = listed ? listed.getAttribute("data-template") : "";
    var follow = function () {
      var found = null;
      Array.prototype.forEach.call(options, function (option) {
        if (option.value === hospital.value.trim()) {
          found = found === null ? option : "many";
        }
      });
      var one = found !== null && found !== "many";
      fallback.hidden = one;
      listed.hidden = !one;
      if (one) {
        listed.textContent = template
          .replace("{region}", found.getAttribute("data-region"))
          .replace("{level}", found.getAttribute("data-level"));
      }
    };
    if (hospital && fallback && listed) {
      hospital.addEventListener("input", follow);
      hospital.addEventListener("change", follow);
      follow();
    }
  }

  var rowsForm = document.querySelector("form[data-fee-rows]");
  if (rowsForm) {
    var body = rowsForm.querySelector("#fee-rows tbody");
    var renumber = function () {
      Array.prototype.forEach.call(body.rows, function (row, index) {
        row.setAttribute("data-row", String(index));
        row.querySelector(".row-no").textContent = String(index + 1);
        row.querySelectorAll("input").forEach(function (input) {
          var name = input.getAttribute("name");
          input.id = "row-" + index + "-" + name;
          var label = input.getAttribute("aria-label") || "";
          input.setAttribute("aria-label", label.replace(/\d+/, String(index + 1)));
        });
        var remove = row.querySelector("[data-remove-row]");
        if (remove) {
          remove.value = "remove-" + index;
        }
      });
    };
    rowsForm.addEventListener("click", function (event) {
      var target = event.target.closest("button");
      if (!target) {
        return;
      }
      if (target.hasAttribute("data-add-row")) {
        event.preventDefault();
        var last = body.rows[body.rows.length - 1];
        var copy = last.cloneNode(true);
        copy.removeAttribute("data-faulty");
        copy.querySelectorAll("td").forEach(function (cell) {
          cell.classList.remove("has-error");
        });
        copy.querySelectorAll(".field-error").forEach(function (node) {
          node.remove();
        });
        copy.querySelectorAll("input").forEach(function (input) {
          input.value = "";
          input.removeAttribute("aria-invalid");
          input.removeAttribute("aria-describedby");
        });
        body.appendChild(copy);
        renumber();
        copy.querySelector("input").focus();
      } else if (target.hasAttribute("data-remove-row")) {
        event.preventDefault();
        var row = target.closest("tr");
        if (body.rows.length > 1) {
          row.remove();
        } else {
          row.querySelectorAll("input").forEach(function (input) {
            input.value = "";
          });
        }
        renumber();
      }
    });
  }
})();
