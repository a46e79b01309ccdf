/* The recommending unit's reports: the 统计表's rates computed as the counts are typed, and the
   工作总结's count. Both mirror the domain, which the page names: each rate's part and whole come
   from QC_RATES (data-part, data-whole) and are computed as the domain's `rate` does
   (part × 100 / whole, two places, halves away from zero; "—" when the whole is not positive);
   the count is `counted_characters` of the text the page composes (headings of the sections that
   have text, then the text; spaces and line breaks not counted). Without this file the server
   shows both when the form is saved or refused. */
(function () {
  "use strict";

  function integer(text) {
    var t = (text || "").trim();
    return /^-?\d+$/.test(t) ? BigInt(t) : null;
  }

  /* The domain's rate(part, whole) as a string, or null when it has none. */
  function rate(part, whole) {
    if (part === null || whole === null || whole <= 0n) { return null; }
    var negative = part < 0n;
    var n = (negative ? -part : part) * 10000n;
    var q = n / whole;
    if ((n % whole) * 2n >= whole) { q += 1n; }
    var cents = (q % 100n).toString().padStart(2, "0");
    return (negative ? "-" : "") + (q / 100n).toString() + "." + cents;
  }

  var form = document.querySelector("form.unit-statistics");
  if (form) {
    var outputs = form.querySelectorAll("output[data-part]");
    var field = function (name) { return form.elements.namedItem(name); };
    var update = function () {
      outputs.forEach(function (out) {
        var part = field(out.getAttribute("data-part"));
        var whole = field(out.getAttribute("data-whole"));
        var value = rate(integer(part && part.value), integer(whole && whole.value));
        out.textContent = value === null ? "—" : value;
      });
      var list = field("enterprises");
      var count = document.getElementById("enterprise-count");
      if (list && count) {
        count.textContent = list.value.split(/\r?\n/).filter(function (line) {
          return line.split("\t")[0].trim() !== "";
        }).length;
      }
    };
    form.addEventListener("input", update);
    update();
  }

  var summary = document.querySelector("form.work-summary");
  if (summary) {
    var areas = summary.querySelectorAll("textarea[data-heading]");
    var shown = document.getElementById("summary-count");
    var words = document.getElementById("count-words").innerHTML;
    var least = parseInt(summary.getAttribute("data-min"), 10);
    var counted = function (text) { return Array.from(text.replace(/\s+/g, "")).length; };
    var recount = function () {
      var parts = [];
      areas.forEach(function (area) {
        var text = area.value.trim();
        if (text) { parts.push(area.getAttribute("data-heading") + "\n" + text); }
      });
      var n = counted(parts.join("\n"));
      shown.textContent = words.replace("{n}", n).replace("{min}", least);
      shown.classList.toggle("under", n < least);
    };
    summary.addEventListener("input", recount);
    recount();
  }
}());
