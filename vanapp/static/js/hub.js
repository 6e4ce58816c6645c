// The hub's pages: a filter change applies at once (the Apply button stays for keyboards and
// for browsers without JavaScript); a date, picked part by part, applies with Apply. A form
// sends a date field's joined value only (js/date-field.js keeps it), so the address stays short.
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.querySelectorAll("select").forEach(function (select) {
      if (select.closest("[data-date-field]")) { return; }
      select.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
    });
    form.addEventListener("submit", function () {
      form.querySelectorAll("[data-date-field] select").forEach(function (part) { part.disabled = true; });
      form.querySelectorAll("[data-date-field] input[type=hidden]").forEach(function (value) {
        if (!value.value) { value.disabled = true; }
      });
    });
  });
  // back from the next page, the parts must not stay disabled
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-date-field] select, [data-date-field] input").forEach(function (el) { el.disabled = false; });
  });
})();
