// List pages (images, cloud images): after paging or sorting, the new page starts at the top
// and keyboard focus lands on the table; before htmx saves a history snapshot, the filter
// controls' current values are written into their attributes so Back/Forward restore them.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!elt || !elt.closest || !elt.closest("[data-page-link]")) return;
    var table = document.querySelector("[data-page-table]");
    if (!table) return;
    table.scrollIntoView({ block: "start" });
    table.focus({ preventScroll: true });
  });

  document.addEventListener("htmx:beforeHistorySave", function () {
    document.querySelectorAll("form.filters input, form.filters select").forEach(function (el) {
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (opt) {
          if (opt.selected) opt.setAttribute("selected", "");
          else opt.removeAttribute("selected");
        });
      } else if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) el.setAttribute("checked", ""); else el.removeAttribute("checked");
      } else {
        el.setAttribute("value", el.value);
      }
    });
    // Open row menus and dialogs are not part of the page's state.
    document.querySelectorAll("details.menu[open]").forEach(function (d) { d.removeAttribute("open"); });
  });
})();
