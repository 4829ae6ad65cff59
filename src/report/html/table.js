// refreshsim report.html: the sortable table shared by the sweep and advise pages. A table is
// columns ({key, name, fmt}) over row objects; clicking a header sorts by it (again: reverses),
// missing values last, ties by the id column.
"use strict";
window.RefreshsimTable = (function () {
  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;"); }
  function show(r, c) {
    var v = r[c.key];
    if (v == null) return "—";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v === "number" && c.fmt != null) return v.toFixed(c.fmt);
    return String(v);
  }
  // opts: {table, cols, id (row id key), rowClass(r), rowAttr (data attribute name), onSort}
  function create(opts) {
    var sort = { key: opts.id, dir: 1 };
    function sorted(list) {
      return list.slice().sort(function (a, b) {
        var x = a[sort.key], y = b[sort.key];
        if (x == null && y == null) return a[opts.id] - b[opts.id];
        if (x == null) return 1;
        if (y == null) return -1;
        if (x < y) return -sort.dir;
        if (x > y) return sort.dir;
        return a[opts.id] - b[opts.id];
      });
    }
    function render(list) {
      var shown = sorted(list);
      opts.table.tHead.innerHTML = "<tr>" + opts.cols.map(function (c) {
        var cls = c.key === sort.key ? (sort.dir > 0 ? "asc" : "desc") : "";
        return '<th data-key="' + esc(c.key) + '" class="' + cls + '">' + esc(c.name) + "</th>";
      }).join("") + "</tr>";
      opts.table.tBodies[0].innerHTML = shown.map(function (r) {
        return "<tr " + opts.rowAttr + '="' + esc(r[opts.id]) + '" class="' + opts.rowClass(r) + '">' + opts.cols.map(function (c) {
          return "<td>" + esc(show(r, c)) + "</td>";
        }).join("") + "</tr>";
      }).join("");
      return shown;
    }
    opts.table.tHead.addEventListener("click", function (ev) {
      var th = ev.target.closest("th");
      if (!th) return;
      var key = th.dataset.key;
      sort = { key: key, dir: sort.key === key ? -sort.dir : 1 };
      opts.onSort();
    });
    return { render: render };
  }
  function num(input) { var v = parseFloat(input.value); return isFinite(v) ? v : null; }
  return { create: create, esc: esc, num: num };
})();
