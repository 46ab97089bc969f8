/* segreport: sort, filter and page the lists built by analysis.display.data_table.
   The rows are already in the page, escaped; this only hides and reorders them and writes
   counts with textContent. Allowed by its sha256 in the page's Content-Security-Policy. */
(function () {
  "use strict";
  function key(row, col) {
    var cell = row.cells[col];
    var v = cell ? cell.getAttribute("data-v") : null;
    return v === null ? null : parseFloat(v);
  }
  function text(row, col) {
    var cell = row.cells[col];
    return cell ? cell.textContent : "";
  }
  function setup(box) {
    var table = box.querySelector("table");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var size = parseInt(box.getAttribute("data-page-size"), 10) || 25;
    var bar = box.querySelector(".sr-dt-bar");
    var filter = bar.querySelector(".sr-dt-filter");
    var info = bar.querySelector(".sr-dt-info");
    var prev = bar.querySelector(".sr-dt-prev");
    var next = bar.querySelector(".sr-dt-next");
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var state = { page: 0, col: -1, dir: 1, match: rows };
    var words = new Map();
    rows.forEach(function (r) { words.set(r, r.textContent.toLowerCase()); });

    function draw() {
      var pages = Math.max(1, Math.ceil(state.match.length / size));
      if (state.page >= pages) { state.page = pages - 1; }
      var start = state.page * size;
      var end = Math.min(start + size, state.match.length);
      var visible = new Set(state.match.slice(start, end));
      rows.forEach(function (r) { r.hidden = !visible.has(r); });
      info.textContent = state.match.length === 0
        ? info.getAttribute("data-none")
        : info.getAttribute("data-text")
            .replace("%1", (start + 1).toLocaleString())
            .replace("%2", end.toLocaleString())
            .replace("%3", state.match.length.toLocaleString());
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
    }
    function refilter() {
      var q = filter.value.trim().toLowerCase();
      state.match = rows.filter(function (r) {
        return q === "" || words.get(r).indexOf(q) !== -1;
      });
    }
    function sort(col) {
      state.dir = state.col === col ? -state.dir : (key(rows[0], col) !== null ? -1 : 1);
      state.col = col;
      var dir = state.dir;
      var order = rows.map(function (r, i) { return [r, i]; });
      order.sort(function (a, b) {
        var x = key(a[0], col), y = key(b[0], col), c;
        if (x !== null || y !== null) {
          if (x === null) { return 1; }  // missing values last, whichever the direction
          if (y === null) { return -1; }
          c = x - y;
        } else {
          c = text(a[0], col).localeCompare(text(b[0], col));
        }
        return c !== 0 ? c * dir : a[1] - b[1];
      });
      rows = order.map(function (p) { return p[0]; });
      rows.forEach(function (r) { body.appendChild(r); });
      heads.forEach(function (h, i) {
        h.setAttribute("aria-sort", i !== col ? "none" : (dir > 0 ? "ascending" : "descending"));
      });
      refilter();
      state.page = 0;
      draw();
    }

    heads.forEach(function (h, i) {
      h.tabIndex = 0;
      h.title = box.getAttribute("data-sort-label");
      h.classList.add("sr-dt-sortable");
      h.addEventListener("click", function () { sort(i); });
      h.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(i); }
      });
    });
    filter.addEventListener("input", function () { refilter(); state.page = 0; draw(); });
    prev.addEventListener("click", function () { state.page -= 1; draw(); });
    next.addEventListener("click", function () { state.page += 1; draw(); });
    rows.forEach(function (r) { r.classList.remove("sr-dt-rest"); });
    box.classList.add("sr-dt-on");
    bar.hidden = false;
    draw();
  }
  Array.prototype.forEach.call(document.querySelectorAll(".sr-dt"), setup);
})();
