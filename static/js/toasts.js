// Toasts (the messages in #messages): show their × buttons (hidden without JS, where they
// could do nothing) and let them, or Escape, dismiss the messages.
(function () {
  "use strict";
  function ready() {
    document.querySelectorAll("#messages [data-dismiss]").forEach(function (b) { b.hidden = false; });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#messages [data-dismiss]");
    if (button) button.closest(".message").remove();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || document.querySelector("dialog[open]")) return;
    document.querySelectorAll("#messages .message").forEach(function (m) { m.remove(); });
  });
})();
