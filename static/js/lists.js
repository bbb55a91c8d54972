// List pages (images, cloud images): after paging or sorting, the new page starts at the top
// and keyboard focus lands on the table; before htmx saves a history snapshot, the filter
// controls' current values are written into their attributes so Back/Forward restore them.
(function () {
  "use strict";
  // A sort header lives in the swapped rows; the filter form's hidden sort fields must follow
  // it, or the next filter change would drop the order the user chose.
  function syncSort(link) {
    var href = link.getAttribute("href") || "";
    var params = new URLSearchParams(href.split("?")[1] || "");
    document.querySelectorAll("form.filters").forEach(function (form) {
      ["sort_key", "sort_dir"].forEach(function (name) {
        var field = form.querySelector("input[name=" + name + "]");
        if (field) { field.value = params.get(name) || ""; field.setAttribute("value", field.value); }
      });
    });
  }

  function pageLink(event) {
    var elt = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    return elt && elt.closest && elt.closest("[data-page-link]") ? elt : null;
  }

  // In the same task as the swap, so the new order and the form agree before any filter
  // change can be sent (settling comes a few milliseconds later).
  document.addEventListener("htmx:afterSwap", function (event) {
    var elt = pageLink(event);
    if (elt && elt.classList.contains("sort")) syncSort(elt);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!pageLink(event)) return;
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
