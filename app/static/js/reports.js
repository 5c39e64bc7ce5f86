// 数据报表 (templates/backoffice/reports/_body.html): typing a date picks 自定义, so the
// dates typed are the ones used. Delegated from the document: the form is swapped over HTMX.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-report-date]")) { return; }
    var custom = input.form && input.form.querySelector('input[name="range"][value="custom"]');
    if (custom) { custom.checked = true; }
  });
})();
