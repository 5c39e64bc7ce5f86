// 数据报表 (templates/backoffice/reports/_body.html). Delegated from the document, as the
// form and the history are swapped over HTMX:
// - typing a date picks 自定义, so the dates typed are the ones used; picking a preset shows
//   its days in the date fields;
// - after a report is asked for, the history (with the new report on top) is brought into
//   view when it is below the screen (phones, where it sits under the form).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.form) { return; }
    if (input.matches("[data-report-date]")) {
      var custom = input.form.querySelector('input[name="range"][value="custom"]');
      if (custom) { custom.checked = true; }
    } else if (input.matches('input[name="range"][data-from]')) {
      input.form.elements.from.value = input.dataset.from;
      input.form.elements.to.value = input.dataset.to;
    }
  });
  document.addEventListener("htmx:load", function (event) {
    var body = event.target;
    if (!body.matches || !body.matches("[data-report-created]")) { return; }
    var history = document.getElementById("report-history");
    if (history && history.getBoundingClientRect().top > window.innerHeight * 0.6) {
      history.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  });
})();
