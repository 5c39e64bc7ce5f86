// The sales dashboards (merchant 数据, admin 销售数据): draws every
// <div data-stats-chart="key"> from the JSON in <script id="stats-data" type="application/json">
// (app/web/sales_stats.py builds it). Charts with no sales are an empty state in the HTML,
// so nothing is drawn for them. The range picker swaps #stats-body over HTMX: the old
// charts are disposed before the swap and the new ones drawn on htmx:load.
(function () {
  "use strict";

  var BRAND = "#FF4D2E", INFO = "#165DFF", INK = "#1F2329", GREY = "#646A73", LINE = "#DEE0E3";
  var PALETTE = [BRAND, INFO, "#00B42A", "#FF7D00", "#722ED1", "#14C9C9", "#F7BA1E", "#EB2F96", "#8F959E", "#3491FA", "#9FDB1D"];
  // Tooltips drawn on the canvas: the HTML tooltip writes style attributes, which our CSP refuses.
  var TOOLTIP = { renderMode: "richText", confine: true };
  var AXIS_LABEL = { color: GREY, fontSize: 11 };

  function narrow(el) { return el.clientWidth < 480; }

  function base(extra) {
    var option = { color: PALETTE, textStyle: { fontFamily: "-apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif" } };
    Object.keys(extra).forEach(function (k) { option[k] = extra[k]; });
    return option;
  }

  function daily(data, labels, el) {
    return base({
      tooltip: Object.assign({ trigger: "axis" }, TOOLTIP),
      legend: { top: 0, textStyle: { color: GREY } },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.x, axisLabel: AXIS_LABEL, axisLine: { lineStyle: { color: LINE } } },
      yAxis: [
        { type: "value", name: narrow(el) ? "" : labels.yuan, axisLabel: AXIS_LABEL, splitLine: { lineStyle: { color: "#F2F3F5" } } },
        { type: "value", minInterval: 1, axisLabel: AXIS_LABEL, splitLine: { show: false } }
      ],
      series: [
        { type: "line", name: labels.gmv, data: data.gmv, smooth: 0.3, symbolSize: 6, areaStyle: { opacity: 0.08 } },
        { type: "line", name: labels.orders, data: data.orders, yAxisIndex: 1, smooth: 0.3, symbolSize: 6 }
      ]
    });
  }

  function ranking(data, name, color, el) {
    return base({
      tooltip: Object.assign({ trigger: "axis", axisPointer: { type: "shadow" } }, TOOLTIP),
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1, axisLabel: AXIS_LABEL, splitLine: { lineStyle: { color: "#F2F3F5" } } },
      yAxis: { type: "category", inverse: true, data: data.names,
               axisLabel: { color: INK, fontSize: 12, width: narrow(el) ? 96 : 160, overflow: "truncate" },
               axisLine: { lineStyle: { color: LINE } }, axisTick: { show: false } },
      series: [{ type: "bar", name: name, data: data.values, barMaxWidth: 18, itemStyle: { color: color, borderRadius: [0, 3, 3, 0] },
                 label: { show: true, position: "right", color: GREY, fontSize: 11 } }]
    });
  }

  function heatmap(data, labels, el) {
    var hours = [];
    for (var h = 0; h < 24; h += 1) hours.push(String(h));
    return base({
      tooltip: Object.assign({ trigger: "item", formatter: function (p) {
        return data.weekdays[p.value[1]] + " " + p.value[0] + labels.hour + "：" + p.value[2];
      } }, TOOLTIP),
      grid: { left: 8, right: 8, top: 8, bottom: 44, containLabel: true },
      xAxis: { type: "category", data: hours, splitArea: { show: true },
               axisLabel: Object.assign({ interval: narrow(el) ? 5 : 1 }, AXIS_LABEL) },
      yAxis: { type: "category", data: data.weekdays, inverse: true, splitArea: { show: true }, axisLabel: AXIS_LABEL },
      visualMap: { min: 0, max: Math.max(data.max, 1), calculable: false, orient: "horizontal", left: "center", bottom: 0,
                   itemHeight: narrow(el) ? 100 : 140, itemWidth: 12, textStyle: { color: GREY, fontSize: 11 },
                   inRange: { color: ["#FFF1EE", "#FFB3A5", BRAND] } },
      series: [{ type: "heatmap", name: labels.purchases, data: data.cells, itemStyle: { borderColor: "#fff", borderWidth: 1 } }]
    });
  }

  function monthDay(data, labels, el) {
    return base({
      tooltip: Object.assign({ trigger: "axis", formatter: function (ps) {
        return ps[0].name + labels.day + "：" + ps[0].value;
      } }, TOOLTIP),
      grid: { left: 8, right: 8, top: 12, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.x, axisLabel: Object.assign({ interval: narrow(el) ? 4 : 2 }, AXIS_LABEL),
               axisLine: { lineStyle: { color: LINE } } },
      yAxis: { type: "value", minInterval: 1, axisLabel: AXIS_LABEL, splitLine: { lineStyle: { color: "#F2F3F5" } } },
      series: [{ type: "bar", name: labels.purchases, data: data.y, barMaxWidth: 14, itemStyle: { color: INFO } }]
    });
  }

  function share(data, labels, el) {
    var small = narrow(el);
    return base({
      tooltip: Object.assign({ trigger: "item", formatter: "{b}：{c}（{d}%）" }, TOOLTIP),
      legend: { type: "scroll", bottom: 0, textStyle: { color: GREY }, pageTextStyle: { color: GREY } },
      series: [{ type: "pie", name: labels.share, data: data, radius: small ? ["30%", "55%"] : ["38%", "65%"],
                 center: ["50%", "44%"], avoidLabelOverlap: true,
                 label: { formatter: small ? "{d}%" : "{b}\n{d}%", color: INK, fontSize: 11, width: 120, overflow: "truncate" },
                 itemStyle: { borderColor: "#fff", borderWidth: 2 } }]
    });
  }

  function funnel(data, labels, el) {
    return base({
      tooltip: Object.assign({ trigger: "item", formatter: "{b}：{c}" }, TOOLTIP),
      series: [{ type: "funnel", data: data, sort: "none", left: "8%", width: "84%", top: 8, bottom: 8, gap: 2,
                 minSize: "12%", label: { position: "inside", formatter: "{b} {c}", color: "#fff", fontSize: 12 },
                 itemStyle: { borderColor: "#fff", borderWidth: 1 },
                 color: [BRAND, "#FF7A45", INFO, "#52C41A"] }]
    });
  }

  // Paid GMV by the order's province on the China map (registered once from the vendored
  // outlines, fetched the first time a map is drawn; see drawOne).
  function map(data, labels, el) {
    var small = narrow(el);
    return base({
      tooltip: Object.assign({ trigger: "item", formatter: function (p) {
        if (!p.data) return p.name;
        return p.name + "\n" + labels.map_gmv + "：" + p.data.value + "\n" + labels.map_orders + "：" + p.data.orders;
      } }, TOOLTIP),
      visualMap: { min: 0, max: Math.max(data.max, 1), orient: "horizontal", left: "center", bottom: 0, calculable: false,
                   itemHeight: small ? 100 : 140, itemWidth: 12, text: [labels.yuan, "0"], textStyle: { color: GREY, fontSize: 11 },
                   inRange: { color: ["#FFF1EE", "#FFB3A5", BRAND] } },
      series: [{ type: "map", map: "china", name: labels.map_gmv, data: data.areas, roam: false,
                 top: 8, bottom: 40, left: "center", layoutSize: "100%", aspectScale: 0.78,
                 label: { show: !small, fontSize: 9, color: GREY },
                 itemStyle: { areaColor: "#F7F8FA", borderColor: "#C9CDD4", borderWidth: 0.6 },
                 emphasis: { label: { show: true, color: INK }, itemStyle: { areaColor: "#FFD8CF" } },
                 select: { disabled: true } }]
    });
  }

  function optionFor(key, charts, el) {
    var labels = charts.labels;
    switch (key) {
      case "daily": return daily(charts.daily, labels, el);
      case "units": return ranking(charts.units, labels.units, BRAND, el);
      case "revenue": return ranking(charts.revenue, labels.revenue, INFO, el);
      case "heatmap": return heatmap(charts.heatmap, labels, el);
      case "month_day": return monthDay(charts.month_day, labels, el);
      case "share": return share(charts.share, labels, el);
      case "funnel": return funnel(charts.funnel, labels, el);
      case "map": return map(charts.map, labels, el);
      default: return null;
    }
  }

  var charts = null;

  // The layout (label widths, intervals, the pie's size) depends on the chart's width: redrawn
  // without animation when the width crosses the phone breakpoint, else simply resized.
  var observer = window.ResizeObserver ? new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var el = entry.target, chart = window.echarts && echarts.getInstanceByDom(el);
      if (!chart || !charts) return;
      var small = narrow(el) ? "1" : "0";
      if (el.getAttribute("data-narrow") !== small) {
        el.setAttribute("data-narrow", small);
        var option = optionFor(el.getAttribute("data-stats-chart"), charts, el);
        option.animation = false;
        chart.setOption(option, true);
      }
      chart.resize({ animation: { duration: 0 } });
    });
  }) : null;

  var geoLoading = null;

  // The map needs the province outlines registered first: fetched once per page, then drawn.
  function withGeo(url, then) {
    if (echarts.getMap("china")) { then(); return; }
    geoLoading = geoLoading || fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("outlines " + response.status);
      return response.json();
    }).then(function (geo) { echarts.registerMap("china", geo); });
    geoLoading.then(then, function () { geoLoading = null; });
  }

  function drawOne(el) {
    if (echarts.getInstanceByDom(el) || !el.isConnected) return;
    var option = optionFor(el.getAttribute("data-stats-chart"), charts, el);
    if (!option) return;
    el.setAttribute("data-narrow", narrow(el) ? "1" : "0");
    option.animationDuration = 400;
    var chart = echarts.init(el);
    chart.on("finished", function () { el.setAttribute("data-drawn", "1"); });
    chart.setOption(option);
    if (observer) observer.observe(el);
  }

  function draw() {
    var source = document.getElementById("stats-data");
    if (!source || !window.echarts) return;
    charts = JSON.parse(source.textContent);
    document.querySelectorAll("[data-stats-chart]").forEach(function (el) {
      if (el.getAttribute("data-stats-chart") === "map") {
        withGeo(charts.map.geo, function () { drawOne(el); });
      } else {
        drawOne(el);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:load", draw);
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "stats-body") return;
    event.detail.target.querySelectorAll("[data-stats-chart]").forEach(function (el) {
      if (observer) observer.unobserve(el);
      var chart = window.echarts && echarts.getInstanceByDom(el);
      if (chart) chart.dispose();
    });
  });
})();
