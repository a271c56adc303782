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
