/* Date and time fields of lists (templates/_fields.html): keep the field's own value
   (YYYY-MM-DD, HH:MM) in step with its parts, so a form read by script sends one value. */
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function sync(box) {
    var hidden = box.querySelector("input[type=hidden]");
    var part = function (name) { var s = box.querySelector('[data-part="' + name + '"]'); return s ? s.value : ""; };
    if (box.hasAttribute("data-date-field")) {
      var y = part("year"), m = part("month"), d = part("day");
      hidden.value = y && m && d ? y + "-" + pad(Number(m)) + "-" + pad(Number(d)) : "";
    } else {
      hidden.value = part("hour") && part("minute") ? part("hour") + ":" + part("minute") : "";
    }
  }
  document.querySelectorAll("[data-date-field], [data-time-field]").forEach(function (box) {
    box.addEventListener("change", function () { sync(box); });
    sync(box);
  });
})();
