// The contest's pages: a score sheet's total as typed (the server checks again when it is
// filed), and the countdown ticking between the server's refreshes.
(function () {
  "use strict";
  function total(form) {
    var sum = 0;
    var inputs = form.querySelectorAll("input[data-max]");
    for (var i = 0; i < inputs.length; i++) {
      var value = parseFloat(inputs[i].value);
      var max = parseFloat(inputs[i].getAttribute("data-max"));
      inputs[i].classList.toggle("over", !isNaN(value) && (value < 0 || value > max));
      if (!isNaN(value)) sum += value;
    }
    var out = form.querySelector("[data-total]");
    if (out) out.textContent = (Math.round(sum * 100) / 100).toString();
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var clocks = document.querySelectorAll("time[data-remaining]");
    for (var i = 0; i < clocks.length; i++) {
      var left = parseInt(clocks[i].getAttribute("data-remaining"), 10);
      if (isNaN(left)) continue;
      left = Math.max(0, left - 1);
      clocks[i].setAttribute("data-remaining", String(left));
      clocks[i].textContent = pad(Math.floor(left / 60)) + ":" + pad(left % 60);
      clocks[i].classList.toggle("over", left === 0);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-sheet]");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        form.addEventListener("input", function () { total(form); });
        total(form);
      })(forms[i]);
    }
    window.setInterval(tick, 1000);
  });
})();
