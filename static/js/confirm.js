// One confirmation pattern for the whole portal: a form (or its submit button) with
// data-confirm="question" opens
// the page's <dialog id="confirm-dialog">; confirming sets the form's hidden confirm=yes and
// submits it. Without JS the form posts without confirm=yes and the server shows its own
// confirmation page, so nothing destructive happens unconfirmed either way.
(function () {
  "use strict";
  function dialog() { return document.getElementById("confirm-dialog"); }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var submitter = event.submitter || null;
    var asker = submitter && submitter.dataset.confirm ? submitter : form;
    if (!asker.dataset.confirm) return;
    if (form.dataset.confirmed === "yes") { delete form.dataset.confirmed; return; }
    var dlg = dialog();
    if (!dlg || typeof dlg.showModal !== "function") return; // the server asks instead
    event.preventDefault();
    event.stopPropagation();
    dlg.querySelector("[data-confirm-text]").textContent = asker.dataset.confirm;
    var ok = dlg.querySelector("[data-confirm-ok]");
    ok.textContent = asker.dataset.confirmButton || "Confirm";
    ok.className = asker.dataset.confirmClass || "danger";
    dlg.returnValue = "";
    dlg.addEventListener("close", function onClose() {
      dlg.removeEventListener("close", onClose);
      if (dlg.returnValue !== "ok") return;
      var field = form.querySelector("input[name=confirm]");
      if (field) field.value = "yes";
      form.dataset.confirmed = "yes";
      if (submitter) form.requestSubmit(submitter); else form.requestSubmit();
    });
    dlg.showModal();
    dlg.querySelector("[data-confirm-cancel]").focus();
  }, true);
})();
