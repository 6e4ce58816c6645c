// Media and pre-flight forms take a few seconds (every file is played for a moment):
// say so and stop a second click. The text comes from the page (data-progress), translated.
document.querySelectorAll("form.busy-form").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    var button = form.querySelector("button[type=submit]");
    if (button.disabled) { event.preventDefault(); return; }
    var note = form.querySelector(".progress");
    if (note) {
      note.textContent = form.dataset.progress || "";
      note.hidden = false;
    }
    // Disable after the submit is under way, or the button's own value would be dropped.
    setTimeout(function () { button.disabled = true; }, 0);
  });
});
