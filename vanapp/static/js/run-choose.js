/* Run's chooser: mark an earlier screening held, or cancel it with a reason, through the JSON
   API (the session's CSRF token), then reload. Words come from #choose-strings. */
(function () {
  "use strict";
  var root = document.getElementById("choose");
  var stringsNode = document.getElementById("choose-strings");
  if (!root || !stringsNode) { return; }
  var S = JSON.parse(stringsNode.textContent);
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Accept": "application/json", "Content-Type": "application/json",
                                 "X-CSRFToken": csrf},
                       body: JSON.stringify(body || {})})
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); throw new Error("login"); }
        return response.json().then(function (data) { if (!response.ok) { throw data; } return data; });
      });
  }

  function failed(error) {
    var e = (error && error.error) || {};
    var message = S.errors[e.code] || (e.code === "bad_request" && S.fields[e.field]) || e.message
                  || (error instanceof TypeError ? S.offline : String(error));
    var el = document.getElementById("form-error");
    el.textContent = S.failed + " " + message;
    el.hidden = false;
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button.held");
    if (!button) { return; }
    button.disabled = true;
    post(button.dataset.url).then(function () { window.location.reload(); })
      .catch(function (error) { button.disabled = false; failed(error); });
  });

  root.querySelectorAll("form.cancel-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {};
      new FormData(form).forEach(function (value, name) { body[name] = value; });
      post(form.dataset.url, body).then(function () { window.location.reload(); }).catch(failed);
    });
  });
}());
