// Regions by name. Without this script a region field is a text box taking a name (with a
// datalist) and the filing form's destination selects are refreshed by the server. With it:
// 1. every [data-region-picker] text box becomes cascading province → prefecture → county
//    selects; the box (now hidden) carries the deepest chosen code to the server;
// 2. a [data-region-cascade] group of three server-rendered selects refills the lower ones
//    in the browser when a higher one changes (no round-trip; its refresh button is hidden).
// The divisions come from /static/data/regions.json: [code, name, parent code, level: s 省 / p 地 / c 县].
(function () {
  "use strict";
  var pickers = document.querySelectorAll("[data-region-picker]");
  var cascades = document.querySelectorAll("[data-region-cascade]");
  if (!pickers.length && !cascades.length) {
    return;
  }
  var byCode = {};
  var children = {};
  var fullName = function (code) {
    var names = [];
    var row = byCode[code];
    while (row) {
      names.unshift(row[1]);
      row = byCode[row[2]];
    }
    return names.join("");
  };
  var option = function (value, text, chosen) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = text;
    if (value && value === chosen) {
      element.selected = true;
    }
    if (value) {
      element.lang = "zh-CN";
    }
    return element;
  };
  var fill = function (select, parent, first, chosen, levels) {
    while (select.options.length) {
      select.remove(0);
    }
    select.appendChild(option("", first, ""));
    (children[parent] || []).forEach(function (row) {
      if (!levels || levels.indexOf(row[3]) >= 0) {
        select.appendChild(option(row[0], row[1], chosen));
      }
    });
    return select.options.length > 1;
  };

  var enhancePicker = function (box) {
    var input = box.querySelector("input");
    var label = box.querySelector("label");
    var hint = box.querySelector(".hint");
    if (!input || !label) {
      return;
    }
    var current = input.value.replace(/\s+/g, "");
    var code = byCode[current] ? current : "";
    if (!code && current) {
      Object.keys(byCode).some(function (candidate) {
        if (fullName(candidate) === current) {
          code = candidate;
          return true;
        }
        return false;
      });
    }
    if (current && !code) {
      return; // something typed that names no division: leave the box for the server to judge
    }
    var chain = [];
    for (var c = code; c && byCode[c]; c = byCode[c][2]) {
      chain.unshift(c);
    }
    var group = document.createElement("div");
    group.className = "region-selects";
    var selects = [];
    ["province", "prefecture", "county"].forEach(function (level, depth) {
      var wrap = document.createElement("div");
      wrap.className = "region-level";
      var select = document.createElement("select");
      select.id = input.id + "-" + level;
      var own = document.createElement("label");
      own.htmlFor = select.id;
      own.textContent = box.getAttribute("data-label-" + level);
      wrap.appendChild(own);
      wrap.appendChild(select);
      group.appendChild(wrap);
      selects.push({ select: select, wrap: wrap, depth: depth });
    });
    var choose = box.getAttribute("data-choose") || "";
    var whole = box.getAttribute("data-whole") || "";
    var refill = function (from) {
      for (var depth = from; depth < 3; depth += 1) {
        var above = depth === 0 ? "" : selects[depth - 1].select.value;
        var any =
          depth === 0 || above
            ? fill(selects[depth].select, above, depth === 0 ? choose : whole, chain[depth] || "")
            : false;
        selects[depth].wrap.hidden = !any;
      }
      var value = "";
      selects.forEach(function (s) {
        if (!s.wrap.hidden && s.select.value) {
          value = s.select.value;
        }
      });
      input.value = value;
    };
    selects.forEach(function (s) {
      s.select.addEventListener("change", function () {
        chain = [];
        selects.forEach(function (other) {
          if (other.depth <= s.depth) {
            chain.push(other.select.value);
          }
        });
        refill(s.depth + 1);
      });
    });
    label.htmlFor = selects[0].select.id;
    if (input.getAttribute("aria-invalid") === "true") {
      selects[0].select.setAttribute("aria-invalid", "true");
      selects[0].select.setAttribute("aria-describedby", input.id + "-error");
    }
    input.type = "hidden";
    input.removeAttribute("list");
    if (hint) {
      hint.hidden = true;
      hint.style.display = "none";
    }
    box.insertBefore(group, input);
    box.classList.add("enhanced");
    refill(0);
    var summary = document.querySelector("[data-error-summary]");
    var summaryFocused = summary && summary.contains(document.activeElement);
    if (
      !summaryFocused &&
      (document.activeElement === input || input.getAttribute("aria-invalid") === "true")
    ) {
      selects[0].select.focus(); // the box it replaces had (or should get) the focus
    }
  };

  var enhanceCascade = function (group) {
    var levels = ["province", "prefecture", "county"].map(function (level) {
      return group.querySelector("[data-region-level='" + level + "']");
    });
    if (levels.some(function (s) { return !s; })) {
      return;
    }
    var firsts = levels.map(function (s) {
      return s.getAttribute("data-first") || (s.options[0] ? s.options[0].textContent : "");
    });
    var countyEmpty = levels[2].getAttribute("data-empty") || firsts[2];
    levels[0].addEventListener("change", function () {
      fill(levels[1], levels[0].value, firsts[1], "", ["p"]);
      fill(levels[2], "", countyEmpty, "", null);
    });
    levels[1].addEventListener("change", function () {
      fill(levels[2], levels[1].value, firsts[2], "", ["c"]);
    });
    var refresh = group.querySelector("[data-region-refresh]");
    if (refresh) {
      refresh.hidden = true;
      refresh.style.display = "none"; // a .button's own display would show it
    }
  };

  var request = new XMLHttpRequest();
  request.open("GET", "/static/data/regions.json");
  request.responseType = "json";
  request.onload = function () {
    if (request.status !== 200 || !request.response) {
      return; // the plain text boxes keep working
    }
    request.response.forEach(function (row) {
      byCode[row[0]] = row;
      (children[row[2]] = children[row[2]] || []).push(row);
    });
    Array.prototype.forEach.call(pickers, enhancePicker);
    Array.prototype.forEach.call(cascades, enhanceCascade);
  };
  request.send();
})();
