/* A "Print" button: the page's Content-Security-Policy allows no inline onclick. */
(function () {
  'use strict';
  document.querySelectorAll('[data-print]').forEach(function (button) {
    button.addEventListener('click', function () { window.print(); });
  });
})();
