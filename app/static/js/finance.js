// The finance dashboard's chart (/admin/finance): money in and refunds per day, drawn from
// the JSON in <script id="finance-data" type="application/json"> (app/web/admin/views_finance.py).
(function () {
  "use strict";

  var GREY = "#646A73", LINE = "#DEE0E3";
  var AXIS_LABEL = { color: GREY, fontSize: 11 };

  function draw() {
    var el = document.querySelector("[data-finance-chart]");
    var source = document.getElementById("finance-data");
    if (!el || !source || !window.echarts || echarts.getInstanceByDom(el)) return;
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(el);
    chart.on("finished", function () { el.setAttribute("data-drawn", "1"); });
    chart.setOption({
      color: ["#165DFF", "#FF4D2E"],
      textStyle: { fontFamily: "-apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif" },
      // drawn on the canvas: the HTML tooltip writes style attributes, which our CSP refuses
      tooltip: { trigger: "axis", renderMode: "richText", confine: true },
      legend: { top: 0, textStyle: { color: GREY } },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.x, axisLabel: AXIS_LABEL, axisLine: { lineStyle: { color: LINE } } },
      yAxis: { type: "value", axisLabel: AXIS_LABEL, splitLine: { lineStyle: { color: "#F2F3F5" } } },
      series: [
        { type: "bar", name: data.labels.money_in, data: data.money_in, barMaxWidth: 24 },
        { type: "line", name: data.labels.refunds, data: data.refunds, smooth: 0.3, symbolSize: 6 }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
