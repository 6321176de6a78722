/**
 * The report page's own script (browser JavaScript, run after uPlot's): one uPlot chart per
 * entry of the page's data, every run in its own colour, cursors in step between charts of a
 * group, charts resized with the window. The instances are left on `window.report.charts` for
 * the console, with `drawMs` (script start to every chart drawn) for the bench.
 */
export const REPORT_SCRIPT = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var charts = [];
  var started = performance.now();
  var drawn = 0;
  window.report = { charts: charts, drawMs: null };
  // uPlot draws after the constructor returns (in a microtask): the first draw of the last chart
  // is when the page is drawn.
  function onDraw(u) {
    if (u._drawnOnce) return;
    u._drawnOnce = true;
    if (++drawn === data.charts.length) window.report.drawMs = performance.now() - started;
  }
  function axisValue(unit) {
    return function (u, values) {
      return values.map(function (v) {
        if (v == null) return "";
        var abs = Math.abs(v);
        var text = abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? v.toExponential(1) : String(+v.toPrecision(4));
        return unit ? text + unit : text;
      });
    };
  }
  // Log charts carry log10 of their values (uPlot's own log scale gives up over the thirty-odd
  // decades of a diverged loss): the axis and the legend show the values themselves.
  function power(v) {
    var value = Math.pow(10, v);
    var abs = Math.abs(value);
    return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(1) : String(+value.toPrecision(4));
  }
  function logAxis(u, values) {
    return values.map(function (v) { return v == null ? "" : power(v); });
  }
  data.charts.forEach(function (chart) {
    var holder = document.getElementById(chart.id);
    var series = [{ label: chart.xLabel }];
    chart.series.forEach(function (s) {
      series.push({
        label: s.label,
        stroke: s.color,
        width: 1.25,
        dash: s.dash || undefined,
        value: chart.log ? function (u, v) { return v == null ? "--" : power(v); } : undefined,
        spanGaps: true,
        points: { show: false },
      });
    });
    var options = {
      width: Math.max(320, holder.clientWidth),
      height: 300,
      scales: { x: { time: false } },
      axes: [
        { label: chart.xLabel, values: axisValue("") },
        { label: chart.yLabel, size: 64, values: chart.log ? logAxis : axisValue(chart.unit || "") },
      ],
      series: series,
      cursor: { sync: { key: chart.group }, drag: { x: true, y: false } },
      legend: { live: true },
      hooks: { draw: [onDraw] },
    };
    var columns = [chart.x].concat(chart.series.map(function (s) { return s.values; }));
    charts.push(new uPlot(options, columns, holder));
  });
  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      charts.forEach(function (u) {
        var width = Math.max(320, u.root.parentNode.clientWidth);
        if (width !== u.width) u.setSize({ width: width, height: u.height });
      });
    });
  });
})();
`;
