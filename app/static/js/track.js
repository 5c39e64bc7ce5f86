/* Behaviour tracking (埋点) of our own, no library: page views with the time the page was
   visible, clicks on [data-track="name"], product impressions in lists
   ([data-track-impression="<product id>"], each once per page). Batched and sent with
   navigator.sendBeacon when the page is hidden or left (and whenever a batch fills up),
   to the endpoint named by this script's data-endpoint. Nothing is collected when the
   browser asks not to be tracked (Do Not Track or Global Privacy Control); the server
   drops such requests too. The page view is sent once per page load, at the first hide,
   with the time visible until then. */
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = (script && script.getAttribute("data-endpoint")) || "/t/events";
  var optedOut = navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true;
  if (optedOut || !navigator.sendBeacon) { return; }

  var BATCH = 50;       // the server takes at most 50 events per batch
  var SEND_AT = 20;     // send early once this many wait, to stay far below the 32 KB body limit
  var queue = [];
  var path = (location.pathname + location.search).slice(0, 300);
  var pageProduct = productOf(document.querySelector("[data-track-page-product]"), "data-track-page-product");
  var shownAt = Date.now();
  var visibleMs = 0;
  var visibleSince = document.visibilityState === "visible" ? performance.now() : null;
  var viewSent = false;
  var seen = {};

  function productOf(el, attr) {
    var id = el ? parseInt(el.getAttribute(attr), 10) : NaN;
    return id > 0 ? id : null;
  }

  function push(event) {
    event.ts = event.ts || Date.now();
    event.path = path;
    if (event.product_id == null) { delete event.product_id; }
    queue.push(event);
    if (queue.length >= SEND_AT) { send(); }
  }

  function send() {
    while (queue.length) {
      var batch = queue.splice(0, BATCH);
      var body = new Blob([JSON.stringify({ events: batch })], { type: "text/plain" });
      if (!navigator.sendBeacon(endpoint, body)) { return; }  // the browser refused: give up quietly
    }
  }

  function hidden() {
    if (visibleSince !== null) { visibleMs += performance.now() - visibleSince; visibleSince = null; }
    if (!viewSent) {
      viewSent = true;
      push({ type: "page_view", ts: shownAt, product_id: pageProduct, dwell_ms: Math.round(visibleMs) });
    }
    send();
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { hidden(); } else if (visibleSince === null) { visibleSince = performance.now(); }
  });
  window.addEventListener("pagehide", hidden);

  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-track]") : null;
    if (!el) { return; }
    var owner = el.closest("[data-track-product]");
    push({ type: "click", product_id: productOf(owner, "data-track-product") || pageProduct,
           props: { name: String(el.getAttribute("data-track")).slice(0, 100) } });
  }, true);

  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) { return; }
      observer.unobserve(entry.target);
      var id = productOf(entry.target, "data-track-impression");
      if (id && !seen[id]) { seen[id] = true; push({ type: "impression", product_id: id }); }
    });
  }, { threshold: 0.5 }) : null;

  function watch(root) {
    if (!observer || !root || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-track-impression]").forEach(function (el) { observer.observe(el); });
  }
  watch(document);
  document.addEventListener("htmx:load", function (e) { watch(e.target); });  // infinite scroll pages
})();
