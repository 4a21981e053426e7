// Draws the charts of a page. Data comes from <script type="application/json"> blocks named
// by each canvas's data-chart-source; no inline script (the Content-Security-Policy forbids it).
// Amounts arrive as decimal strings (exact in the page's tables); the chart only needs numbers.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  var canvases = document.querySelectorAll("canvas[data-chart]");
  Array.prototype.forEach.call(canvases, function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart-source"));
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var kind = canvas.getAttribute("data-chart");
    new window.Chart(canvas, {
      type: kind,
      data: {
        labels: data.labels,
        datasets: [{
          label: data.label,
          data: data.values.map(Number),
          backgroundColor: "#0b5cad",
          borderColor: "#0b5cad",
          fill: false,
          tension: 0
        }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  });
})();
