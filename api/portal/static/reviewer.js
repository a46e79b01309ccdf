// The score sheet's total as typed: the sum of the criteria, each within its maximum (the
// server checks again when the sheet is filed).
(function () {
  "use strict";
  function update(form) {
    var total = 0;
    var inputs = form.querySelectorAll("input[data-max]");
    for (var i = 0; i < inputs.length; i++) {
      var value = parseFloat(inputs[i].value);
      var max = parseFloat(inputs[i].getAttribute("data-max"));
      var over = !isNaN(value) && (value < 0 || value > max);
      inputs[i].classList.toggle("over", over);
      if (!isNaN(value)) total += value;
    }
    var out = form.querySelector("[data-total]");
    if (out) out.textContent = (Math.round(total * 100) / 100).toString();
  }
  document.addEventListener("DOMContentLoaded", function () {
    // On a phone the result is a tap away: its panel starts folded.
    if (window.matchMedia("(max-width: 60rem)").matches) {
      var details = document.querySelectorAll("details.result-details");
      for (var d = 0; d < details.length; d++) details[d].removeAttribute("open");
    }
    var forms = document.querySelectorAll("form[data-sheet]");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        form.addEventListener("input", function () { update(form); });
        update(form);
      })(forms[i]);
    }
  });
})();
