// An export job's page: the bar follows the job every second; once the job is finished the
// page reloads to offer the download. Without JavaScript a meta refresh does the same.
(function () {
  "use strict";
  var panel = document.querySelector("[data-progress-url]");
  if (!panel || !window.fetch) {
    return;
  }
  var url = panel.getAttribute("data-progress-url");
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var rows = document.getElementById("job-rows");
  var template = rows ? rows.textContent : "";
  function show(data) {
    if (bar) {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
    }
    if (percent) {
      percent.textContent = data.percent + "%";
    }
    if (rows) {
      // The server's sentence with its two numbers replaced (the page's language kept).
      var numbers = 0;
      rows.textContent = template.replace(/\d+/g, function () {
        numbers += 1;
        return numbers === 1 ? String(data.processed_rows) : String(data.total_rows);
      });
    }
    panel.setAttribute("data-state", data.state);
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) {
          return;
        }
        show(data);
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }
  window.setTimeout(poll, 500);
})();
