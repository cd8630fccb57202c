"use strict";
// Sorts the ranking table by the clicked column: numbers numerically, text alphabetically, missing values last in
// either direction; a second click reverses. Equal values keep the ranking's order. aria-sort marks the sorted column.
(function () {
  const table = document.getElementById("ranking-table");
  if (!table) return;
  const body = table.tBodies[0];
  const headers = Array.from(table.tHead.rows[0].cells);
  Array.from(body.rows).forEach(function (row, i) { row.dataset.order = String(i); });

  function valueOf(row, index, numeric) {
    const text = row.cells[index].dataset.value;
    if (text === undefined || text === "") return null;
    return numeric ? Number(text) : text;
  }

  function sortBy(index, descending) {
    const numeric = headers[index].dataset.type === "number";
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = valueOf(a, index, numeric);
      const y = valueOf(b, index, numeric);
      let order = 0;
      if (x === null || y === null) {
        order = x === y ? 0 : (x === null ? 1 : -1);
      } else {
        order = numeric ? x - y : x.localeCompare(y);
        if (descending) order = -order;
      }
      return order !== 0 ? order : Number(a.dataset.order) - Number(b.dataset.order);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headers.forEach(function (th) { th.removeAttribute("aria-sort"); });
    headers[index].setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  headers.forEach(function (th, index) {
    th.querySelector("button").addEventListener("click", function () {
      const now = th.getAttribute("aria-sort");
      const descending = now === null ? th.dataset.first === "descending" : now === "ascending";
      sortBy(index, descending);
    });
  });
})();
