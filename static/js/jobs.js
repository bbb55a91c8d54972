// Job center: tell screen readers when a job ends. Rows and panels that finish carry
// data-announce; the text goes into the page's one aria-live region (a region swapped in by
// htmx is not reliably announced, a persistent one is).
(function () {
  "use strict";
  function announce(initial) {
    const region = document.getElementById("job-announcer");
    const items = document.querySelectorAll("[data-announce]:not([data-announced])");
    const texts = [];
    items.forEach((el) => {
      el.setAttribute("data-announced", "");
      texts.push(el.getAttribute("data-announce"));
    });
    if (region && !initial && texts.length) region.textContent = texts.join(". ");
  }
  document.addEventListener("DOMContentLoaded", () => announce(true));
  document.addEventListener("htmx:afterSettle", () => announce(false));
})();
