// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var citation = document.getElementById("citation-texte");
  if (citation && navigator.clipboard) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Copier la citation";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(citation.value).then(function () {
        button.textContent = "Citation copiée";
      });
    });
    citation.insertAdjacentElement("afterend", button);
  }
  if (citation) {
    citation.addEventListener("focus", function () { citation.select(); });
  }
  var sort = document.getElementById("tri");
  if (sort && sort.form && document.querySelector(".hits")) {
    sort.addEventListener("change", function () { sort.form.submit(); });
  }
});

// On a phone, a results page folds the search filters so the first result shows at once.
document.addEventListener("DOMContentLoaded", function () {
  var fold = document.querySelector("details.filters-fold[data-fold-on-phone]");
  if (fold && window.matchMedia("(max-width: 50rem)").matches) {
    fold.removeAttribute("open");
  }
});

// Dragging across the timeline's bars narrows the dates to the span selected (each bar
// stays a plain link: a click without a drag follows it).
document.addEventListener("DOMContentLoaded", function () {
  var figure = document.querySelector("figure.timeline[data-range-href]");
  if (!figure) { return; }
  var bars = Array.prototype.slice.call(figure.querySelectorAll("rect[data-start]"))
    .map(function (rect) { return rect.parentNode; });
  function day(bar, name) { return bar.querySelector("rect[data-start]").getAttribute(name); }
  var first = null;
  var last = null;
  var dragged = false;
  function mark() {
    var lo = Math.min(bars.indexOf(first), bars.indexOf(last));
    var hi = Math.max(bars.indexOf(first), bars.indexOf(last));
    bars.forEach(function (bar, i) {
      bar.classList.toggle("selected", first !== null && i >= lo && i <= hi);
    });
  }
  bars.forEach(function (bar) {
    bar.addEventListener("mousedown", function (event) {
      event.preventDefault();
      first = last = bar;
      dragged = false;
      mark();
    });
    bar.addEventListener("mouseenter", function () {
      if (first !== null && bar !== last) {
        last = bar;
        dragged = true;
        mark();
      }
    });
    bar.addEventListener("click", function (event) {
      if (dragged) { event.preventDefault(); }
    });
  });
  document.addEventListener("mouseup", function () {
    if (first === null) { return; }
    var start = day(first, "data-start");
    var end = day(last, "data-end");
    if (bars.indexOf(last) < bars.indexOf(first)) {
      start = day(last, "data-start");
      end = day(first, "data-end");
    }
    var wasDragged = dragged;
    first = last = null;
    if (!wasDragged) { mark(); return; }
    var url = new URL(figure.getAttribute("data-range-href"), window.location.href);
    url.searchParams.set("du", start);
    url.searchParams.set("au", end);
    url.searchParams.delete("page");
    window.location.assign(url.toString());
  });
});
