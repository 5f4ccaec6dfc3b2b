// rechallenge workbench: table sorting and filtering, and run progress polling.
// No dependencies; the pages work without it (sorting and live progress need it).
"use strict";

function cellValue(row, index) {
  const cell = row.children[index];
  if (!cell) return "";
  const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
  const number = Number(raw);
  return raw !== "" && !Number.isNaN(number) ? number : raw.toLowerCase();
}

function sortTable(table, index, header) {
  const body = table.tBodies[0];
  const ascending = header.getAttribute("aria-sort") !== "ascending";
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a, index);
    const y = cellValue(b, index);
    if (x === y) return 0;
    if (typeof x === "number" && typeof y === "number") return ascending ? x - y : y - x;
    return ascending ? String(x).localeCompare(String(y)) : String(y).localeCompare(String(x));
  });
  table.querySelectorAll("th[aria-sort]").forEach((th) => th.setAttribute("aria-sort", "none"));
  header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  rows.forEach((row) => body.appendChild(row));
}

function filterTable(table, text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  Array.from(table.tBodies[0].rows).forEach((row) => {
    const content = row.textContent.toLowerCase();
    row.hidden = !words.every((w) => content.includes(w));
  });
}

function pollRun(box) {
  const id = box.dataset.run;
  const status = document.getElementById("run-status");
  const stage = document.getElementById("run-stage");
  const bar = document.getElementById("run-progress");
  const tick = () => {
    fetch(`/api/runs/${id}`, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => response.json())
      .then((run) => {
        status.textContent = run.status;
        if (stage) stage.textContent = run.stage;
        bar.value = run.progress;
        bar.textContent = `${Math.round(run.progress * 100)} %`;
        if (run.status === "done" || run.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(tick, 700);
        }
      })
      .catch(() => window.setTimeout(tick, 2000));
  };
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.sortable").forEach((table) => {
    table.querySelectorAll("button[data-sort]").forEach((button) => {
      button.addEventListener("click", () =>
        sortTable(table, Number(button.dataset.sort), button.closest("th")));
    });
  });
  document.querySelectorAll("input[data-filter]").forEach((input) => {
    const table = document.getElementById(input.dataset.filter);
    input.addEventListener("input", () => filterTable(table, input.value));
  });
  const box = document.getElementById("run-state");
  if (box && (box.dataset.status === "queued" || box.dataset.status === "running")) pollRun(box);
});
