// A header checkbox with data-select-all="<form id>" ticks every row checkbox of that form.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
  const form = box.dataset.selectAll;
  for (const row of document.querySelectorAll('input[type="checkbox"][name="image"]')) {
    if (row.getAttribute("form") === form) row.checked = box.checked;
  }
});
