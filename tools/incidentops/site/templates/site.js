/* incidentops: sortable, filterable tables. No dependencies; works offline and from file://. */
(function () {
  "use strict";
  function sortKey(cell) {
    var raw = cell.getAttribute("data-io-sort");
    var text = raw !== null ? raw : cell.textContent.trim();
    var num = Number(text);
    return text !== "" && !isNaN(num) ? num : text.toLowerCase();
  }
  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }
  function sortBy(table, index, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.setAttribute("aria-sort", "none"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var order = compare(sortKey(r1.cells[index]), sortKey(r2.cells[index]));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  function addFilter(wrapper, table) {
    var label = document.createElement("label");
    label.className = "io-filter";
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = "Filter rows";
    input.setAttribute("aria-label", "Filter the rows of the table below");
    var count = document.createElement("span");
    count.className = "io-filter__count";
    label.appendChild(input);
    label.appendChild(count);
    wrapper.parentNode.insertBefore(label, wrapper);
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var text = row.textContent.toLowerCase();
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) shown += 1;
      });
      count.textContent = shown + " of " + table.tBodies[0].rows.length + " rows";
    }
    input.addEventListener("input", apply);
    apply();
  }
  function setup(wrapper) {
    var table = wrapper.querySelector("table");
    if (!table || !table.tHead || !table.tBodies.length || table.getAttribute("data-io-ready")) return;
    table.setAttribute("data-io-ready", "1");
    // name each cell by its column: below 768 px the rows are shown as cards (site.css)
    var names = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) { return th.textContent.trim(); });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      Array.prototype.forEach.call(row.cells, function (cell, index) {
        if (names[index]) cell.setAttribute("data-io-label", names[index]);
      });
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.setAttribute("aria-sort", "none");
      th.tabIndex = 0;
      th.title = "Sort by this column";
      th.addEventListener("click", function () { sortBy(table, index, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, index, th); }
      });
    });
    if (wrapper.hasAttribute("data-io-filter")) addFilter(wrapper, table);
  }
  // Below 768 px a table too wide for the screen is shown as cards (one per row, site.css);
  // a table that fits stays a table.
  var narrow = window.matchMedia("(max-width: 47.9375em)");
  function stack() {
    Array.prototype.forEach.call(document.querySelectorAll(".io-sortable"), function (wrapper) {
      var table = wrapper.querySelector("table");
      if (!table) return;
      wrapper.classList.remove("io-stacked");
      if (!narrow.matches) return;
      wrapper.classList.add("io-measuring");  // words unbroken: does the table fit as it would read?
      var tooWide = table.scrollWidth > wrapper.clientWidth + 1;
      wrapper.classList.remove("io-measuring");
      if (tooWide) wrapper.classList.add("io-stacked");
    });
  }
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) window.clearTimeout(pending);
    pending = window.setTimeout(stack, 100);
  });
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".io-sortable"), setup);
    stack();
    // the theme's search dialog has no accessible name
    var search = document.querySelector('.md-search[role="dialog"]');
    if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search the site");
  }
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) window.document$.subscribe(init);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
