/* Live character counts: a textarea with data-count-max shows "n / max 字" in the .count of its
   field as it is typed (the server refuses what is over the limit; this only tells early). */
(function () {
  "use strict";
  document.querySelectorAll("textarea[data-count-max]").forEach(function (area) {
    var field = area.closest(".field");
    var out = field ? field.querySelector(".count") : null;
    if (!out) { return; }
    var max = parseInt(area.getAttribute("data-count-max"), 10);
    var template = out.textContent;
    function update() {
      var n = Array.from(area.value).length;
      out.textContent = template.replace(/^\s*\d+/, String(n));
      out.classList.toggle("over", n > max);
    }
    area.addEventListener("input", update);
    update();
  });
})();
