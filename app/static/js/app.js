// Small behaviours shared by every page: HTMX progress bar and CSRF, toasts,
// confirm dialogs, SMS code countdown, charts.
(function () {
  "use strict";

  var TOAST_ICONS = { success: "check-circle-fill", danger: "x-circle-fill", warning: "exclamation-circle-fill", info: "info-circle-fill" };

  // Same markup as components/_toast.html: a white card, the level's colour in the icon.
  function showToast(message, level) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    level = TOAST_ICONS[level] ? level : "success";
    var el = document.createElement("div");
    el.className = "toast toast-" + level;
    el.setAttribute("role", level === "danger" ? "alert" : "status");
    var body = document.createElement("div");
    body.className = "toast-body";
    var icon = document.createElement("i");
    icon.className = "bi bi-" + TOAST_ICONS[level] + " toast-icon";
    icon.setAttribute("aria-hidden", "true");
    var text = document.createElement("div");
    text.className = "flex-grow-1";
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", box.getAttribute("data-close-label") || "Close");
    body.appendChild(icon);
    body.appendChild(text);
    body.appendChild(close);
    el.appendChild(body);
    box.appendChild(el);
    new bootstrap.Toast(el, { delay: 3500 }).show();
    el.addEventListener("hidden.bs.toast", function () { el.remove(); });
  }
  window.showToast = showToast;

  // Elements matching `selector` in `root`, `root` itself included (an outerHTML
  // swap hands us the new element itself, not a parent).
  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll ? root.querySelectorAll(selector) : []);
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  function initToasts(root) {
    within(root, ".toast.js-autoshow").forEach(function (el) {
      el.classList.remove("js-autoshow");
      new bootstrap.Toast(el, { delay: 4000 }).show();
    });
  }

  // CSRF token on demand. Pages shared by visitors without a session (a first visit)
  // come with the token left out (app/web/shop/full_pages.py); before the first POST
  // the page asks for one (which starts the session) and puts it wherever it belongs.
  // Those pages post only forms (HTMX or not), so the form's submit is where to wait.
  var tokenRequest = null;
  function tokenMeta() { return document.querySelector('meta[name="csrf-token"]'); }
  function pageToken() { var meta = tokenMeta(); return meta ? meta.content : "x"; }
  function withToken() {
    if (pageToken()) return Promise.resolve(pageToken());
    if (!tokenRequest) {
      tokenRequest = fetch(tokenMeta().getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("token " + response.status);
          return response.json();
        })
        .then(function (data) {
          tokenMeta().content = data.token;
          document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": data.token }));
          document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
            if (!input.value) input.value = data.token;
          });
          return data.token;
        })
        .catch(function (error) {
          tokenRequest = null;
          var box = document.getElementById("toasts") || document.body;
          showToast(box.getAttribute("data-error-message") || "Request failed", "danger");
          throw error;
        });
    }
    return tokenRequest;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var input = form.querySelector('input[name="csrf_token"]');
    if (!input || input.value) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter;
    withToken().then(function () {
      if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
    }, function () {});
  }, true);

  // Confirm dialog for any form or button with data-confirm.
  var pendingForm = null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (!message || form.dataset.confirmed === "1") return;
    event.preventDefault();
    event.stopImmediatePropagation();
    pendingForm = form;
    document.getElementById("confirm-modal-text").textContent = message;
    // The confirm button names the action (data-confirm-ok), else the default label.
    var ok = document.getElementById("confirm-modal-ok");
    if (!ok.dataset.defaultLabel) ok.dataset.defaultLabel = ok.textContent;
    ok.textContent = form.getAttribute("data-confirm-ok") || ok.dataset.defaultLabel;
    bootstrap.Modal.getOrCreateInstance(document.getElementById("confirm-modal")).show();
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.id !== "confirm-modal-ok" || !pendingForm) return;
    var form = pendingForm;
    pendingForm = null;
    // Bootstrap ignores hide() while the dialog is still fading in (a quick click, a
    // slow machine): ask again once it is shown.
    var modalEl = document.getElementById("confirm-modal");
    var modal = bootstrap.Modal.getOrCreateInstance(modalEl);
    var hideWhenShown = function () { modal.hide(); };
    modalEl.addEventListener("shown.bs.modal", hideWhenShown, { once: true });
    modalEl.addEventListener("hidden.bs.modal", function () {
      modalEl.removeEventListener("shown.bs.modal", hideWhenShown);
    }, { once: true });
    modal.hide();
    form.dataset.confirmed = "1";
    if (form.hasAttribute("hx-post") && window.htmx) {
      htmx.trigger(form, "submit");
    } else {
      form.requestSubmit();
    }
    setTimeout(function () { delete form.dataset.confirmed; }, 0);
  });

  // SMS button countdown after a code was sent.
  function initCountdowns(root) {
    within(root, "[data-countdown]").forEach(function (btn) {
      if (btn.dataset.counting) return;
      btn.dataset.counting = "1";
      var left = parseInt(btn.getAttribute("data-countdown"), 10) || 60;
      var label = btn.textContent;
      btn.disabled = true;
      var timer = setInterval(function () {
        left -= 1;
        btn.textContent = left + "s";
        if (left <= 0) {
          clearInterval(timer);
          btn.disabled = false;
          btn.textContent = label;
          btn.removeAttribute("data-countdown");
          delete btn.dataset.counting;
        }
      }, 1000);
      btn.textContent = left + "s";
    });
  }

  // Charts: <div class="chart" data-chart='{"type": "bar", "x": [...], "y": [...], "name": "..."}'>
  function initCharts(root) {
    if (!window.echarts) return;
    within(root, ".chart[data-chart]").forEach(function (el) {
      if (echarts.getInstanceByDom(el)) return;
      var spec = JSON.parse(el.getAttribute("data-chart"));
      var chart = echarts.init(el);
      chart.setOption({
        color: ["#FF4D2E", "#165DFF", "#00B42A", "#FF7D00"],
        // drawn on the canvas: the HTML tooltip writes style attributes, which our CSP refuses
        tooltip: { trigger: "axis", renderMode: "richText" },
        grid: { left: 40, right: 16, top: 24, bottom: 28 },
        xAxis: { type: "category", data: spec.x },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: spec.type || "bar", name: spec.name, data: spec.y, barMaxWidth: 28 }]
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  // Copy buttons: <button data-copy="#field" data-copied-label="...">: copies the field's value.
  document.addEventListener("click", function (event) {
    var btn = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!btn) return;
    var field = document.querySelector(btn.getAttribute("data-copy"));
    if (!field) return;
    var copied = btn.getAttribute("data-copied-label") || "OK";
    function done() { showToast(copied, "success"); }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value || field.textContent).then(done, function () { field.select(); });
    } else {
      field.select();
      try { if (document.execCommand("copy")) done(); } catch (e) { /* the text stays selected for Ctrl+C */ }
    }
  });

  // Logo inputs with data-logo-preview="#img": show the chosen file (and its name) before it is uploaded.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-logo-preview]") || !input.files || !input.files[0]) return;
    var nameSelector = input.getAttribute("data-file-name");
    var nameBox = nameSelector && document.querySelector(nameSelector);
    if (nameBox) nameBox.textContent = input.files[0].name;
    var img = document.querySelector(input.getAttribute("data-logo-preview"));
    if (!img) return;
    img.src = URL.createObjectURL(input.files[0]);
    img.classList.remove("d-none");
    var hideSelector = input.getAttribute("data-preview-hide");
    var placeholder = hideSelector && document.querySelector(hideSelector);
    if (placeholder) placeholder.classList.add("d-none");
  });

  function init(root) {
    initToasts(root);
    initCountdowns(root);
    initCharts(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });

  // HTMX: progress bar, toasts from HX-Trigger, and re-initialising swapped content.
  var bar = null, active = 0;
  document.addEventListener("htmx:beforeRequest", function () {
    bar = bar || document.getElementById("htmx-progress");
    active += 1;
    if (bar) { bar.classList.remove("done"); bar.classList.add("running"); }
  });
  document.addEventListener("htmx:afterRequest", function () {
    active = Math.max(0, active - 1);
    if (bar && active === 0) { bar.classList.remove("running"); bar.classList.add("done"); }
  });
  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    showToast(detail.message || (detail.value && detail.value.message), detail.level || (detail.value && detail.value.level));
  });
  // htmx:load fires on every piece of new content (main and out-of-band swaps).
  document.addEventListener("htmx:load", function (event) { init(event.target); });
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("toasts") || document.body;
    showToast(box.getAttribute("data-error-message") || "Request failed", "danger");
  });
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("toasts") || document.body;
    var key = event.detail.xhr.status === 429 ? "data-rate-limited-message" : "data-error-message";
    showToast(box.getAttribute(key) || "Request failed", "danger");
  });
})();

// 商家入驻 form and review: image previews before upload, a cap on ticked
// checkboxes ([data-max-checked]), and a zoomable document viewer.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[type=file][data-preview]") && input.files && input.files[0]) {
      var img = document.querySelector(input.getAttribute("data-preview"));
      if (img && /^image\//.test(input.files[0].type)) {
        img.src = URL.createObjectURL(input.files[0]);
        img.hidden = false;
        var empty = img.parentNode.querySelector(".doc-upload-empty");
        if (empty) empty.remove();
        var tile = input.closest(".doc-upload");  // a new file replaces the refused one
        if (tile) {
          tile.classList.remove("is-invalid");
          tile.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
        }
      }
    }
    var group = input.closest && input.closest("[data-max-checked]");
    if (group) capChecked(group);
  });

  function capChecked(group) {
    var max = parseInt(group.getAttribute("data-max-checked"), 10);
    var boxes = group.querySelectorAll("input[type=checkbox]");
    var ticked = group.querySelectorAll("input[type=checkbox]:checked").length;
    boxes.forEach(function (box) { box.disabled = !box.checked && ticked >= max; });
  }

  function initCaps(root) {
    var groups = root.querySelectorAll ? root.querySelectorAll("[data-max-checked]") : [];
    groups.forEach(capChecked);
  }
  document.addEventListener("DOMContentLoaded", function () { initCaps(document); });
  document.addEventListener("htmx:load", function (event) { initCaps(event.target); });

  // Document viewer: fit to the window, or zoom in steps; clicking the image toggles.
  var scale = 0;  // 0 = fit
  function viewerImage() { return document.getElementById("doc-viewer-img"); }
  function applyScale() {
    var img = viewerImage();
    var body = img.parentNode;
    if (!scale) {
      img.style.width = "";
      body.classList.remove("zoomed");
    } else {
      img.style.width = Math.round(img.naturalWidth * scale) + "px";
      body.classList.add("zoomed");
    }
  }
  function fitScale(img) {
    return img.naturalWidth ? img.getBoundingClientRect().width / img.naturalWidth : 1;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-doc-viewer]");
    var modal = document.getElementById("doc-viewer");
    if (link && modal && window.bootstrap) {
      event.preventDefault();
      var img = viewerImage();
      scale = 0;
      img.src = link.getAttribute("href");
      img.alt = link.getAttribute("data-title") || "";
      document.getElementById("doc-viewer-title").textContent = link.getAttribute("data-title") || "";
      document.getElementById("doc-viewer-open").href = link.getAttribute("href");
      applyScale();
      bootstrap.Modal.getOrCreateInstance(modal).show();
      return;
    }
    var zoom = event.target.closest && event.target.closest("[data-zoom]");
    var img2 = viewerImage();
    if (zoom && img2) {
      var step = zoom.getAttribute("data-zoom");
      var current = scale || fitScale(img2);
      if (step === "fit") scale = 0;
      else if (step === "in") scale = Math.min(current * 1.5, 6);
      else scale = Math.max(current / 1.5, 0.1);
      applyScale();
    } else if (img2 && event.target === img2) {
      scale = scale ? 0 : Math.max(fitScale(img2) * 2, 1);
      applyScale();
    }
  });
})();

// Product form: reorder images (first = main image), mark for removal, preview new
// files; inventory: close a history drawer. Plain form posts still carry the order.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var move = event.target.closest ? event.target.closest("[data-image-move]") : null;
    if (move) {
      var tile = move.closest("[data-image-tile]");
      var step = parseInt(move.getAttribute("data-image-move"), 10);
      if (step < 0 && tile.previousElementSibling) {
        tile.parentNode.insertBefore(tile, tile.previousElementSibling);
      } else if (step > 0 && tile.nextElementSibling) {
        tile.parentNode.insertBefore(tile.nextElementSibling, tile);
      }
      move.focus();
      return;
    }
    var clear = event.target.closest ? event.target.closest("[data-clear-closest]") : null;
    if (clear) {
      var box = clear.closest(clear.getAttribute("data-clear-closest"));
      if (box && box.parentNode) box.parentNode.innerHTML = "";
    }
  });
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-image-remove]")) {
      input.closest("[data-image-tile]").classList.toggle("is-removed", input.checked);
      return;
    }
    if (!input.matches || !input.matches("input[type=file][data-image-preview]")) return;
    var box = document.querySelector(input.getAttribute("data-image-preview"));
    if (!box) return;
    box.innerHTML = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      if (!/^image\//.test(file.type)) return;
      var img = document.createElement("img");
      img.className = "image-preview";
      img.alt = file.name;
      img.width = 96;
      img.height = 96;
      img.src = URL.createObjectURL(file);
      box.appendChild(img);
    });
  });
})();

// Promotion countdowns: <time data-ends-at="ISO"> shows what is left (天 HH:MM:SS).
(function () {
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    document.querySelectorAll("[data-ends-at]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("data-ends-at")) - Date.now()) / 1000);
      if (isNaN(left)) return;
      if (left <= 0) { el.textContent = el.getAttribute("data-ended-text") || "00:00:00"; return; }
      var days = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = (days ? days + "天 " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    });
  }
  tick();
  setInterval(tick, 1000);
})();

// "Select all" checkboxes: <input type=checkbox data-check-all="selector of the boxes">.
document.addEventListener("change", function (event) {
  var all = event.target;
  if (!all.matches || !all.matches("[data-check-all]")) return;
  document.querySelectorAll(all.getAttribute("data-check-all")).forEach(function (box) { box.checked = all.checked; });
});

// Product page: the chosen spec shows on the 规格 row.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches(".sku-list input[name=sku_id]")) return;
  var label = input.closest(".sku-option");
  var shown = document.querySelector("[data-sku-selected]");
  if (label && shown) shown.textContent = label.querySelector(".sku-name").textContent;
});

// Quantity steppers: <button data-qty-step="-1|1"> inside .qty-stepper moves its number input within min..max
// (and says so with a change event).
document.addEventListener("click", function (event) {
  var btn = event.target.closest ? event.target.closest("[data-qty-step]") : null;
  if (!btn) return;
  var input = btn.closest(".qty-stepper").querySelector("input[type=number]");
  var min = parseInt(input.min, 10) || 1, max = parseInt(input.max, 10) || 999;
  var value = (parseInt(input.value, 10) || min) + parseInt(btn.getAttribute("data-qty-step"), 10);
  var next = Math.max(min, Math.min(max, value));
  if (String(next) === input.value) return;
  input.value = next;
  // listeners of the box (the after-sales refund estimate) hear a stepper press as a change
  input.dispatchEvent(new Event("change", { bubbles: true }));
});

// Rows that can be taken out of a form's table: <button data-remove-row> inside a <tr> (秒杀 form).
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-remove-row]") : null;
  if (!button) return;
  var row = button.closest("tr");
  if (row) row.remove();
});
