// formal-review: small enhancements of the review pages (each works without this file).
// The plan editor: each rubric's total follows the points as they are typed.
// The formal-review queue: one box ticks or unticks every result shown.
(function () {
  "use strict";

  function rubricTotals() {
    document.querySelectorAll("fieldset.rubric").forEach(function (rubric) {
      var total = rubric.querySelector(".sum");
      if (!total) { return; }
      var max = Number(total.getAttribute("data-max"));
      var template = total.getAttribute("data-template") || "";
      function update() {
        var sum = 0;
        rubric.querySelectorAll('input[name$=".points"]').forEach(function (input) {
          var value = parseInt(input.value, 10);
          if (!isNaN(value)) { sum += value; }
        });
        total.textContent = template.replace("{sum}", String(sum));
        total.classList.toggle("off", sum !== max);
      }
      rubric.addEventListener("input", update);
    });
  }

  function tickAll() {
    var all = document.getElementById("pick-all");
    if (!all) { return; }
    all.hidden = false;
    var box = all.querySelector("input");
    box.addEventListener("change", function () {
      document.querySelectorAll('input[name="submissions"]').forEach(function (each) {
        each.checked = box.checked;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    rubricTotals();
    tickAll();
  });
})();
