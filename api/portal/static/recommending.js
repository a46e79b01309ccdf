// The 推荐表 page's enhancements (every action also works as a plain form post without them):
// a live count of each evaluation against its limit, and ranking by dragging a row's handle,
// which posts the new order through the page's own order form.
(function () {
  "use strict";

  function count(area) {
    var limit = parseInt(area.getAttribute("data-limit"), 10);
    var shown = document.getElementById(area.getAttribute("aria-describedby").split(" ")[0]);
    if (!shown) { return; }
    var typed = Array.from(area.value).length;
    var number = shown.querySelector(".typed");
    if (number) { number.textContent = String(typed); }
    shown.classList.toggle("over", typed > limit);
  }

  document.querySelectorAll("textarea[data-limit]").forEach(function (area) {
    area.addEventListener("input", function () { count(area); });
    count(area);
  });

  var list = document.querySelector("ol.ranking.sortable");
  var orderForm = document.getElementById("order-form");
  if (!list || !orderForm) { return; }
  var dragged = null;
  var before = "";

  function order() {
    return Array.from(list.querySelectorAll("li.entry")).map(function (li) {
      return li.getAttribute("data-submission");
    }).join(",");
  }

  list.addEventListener("dragstart", function (event) {
    var handle = event.target.closest ? event.target.closest(".handle") : null;
    if (!handle) { return; }
    dragged = handle.closest("li.entry");
    before = order();
    dragged.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.getAttribute("data-submission"));
  });

  list.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    event.preventDefault();
    var over = event.target.closest ? event.target.closest("li.entry") : null;
    if (!over || over === dragged) { return; }
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });

  list.addEventListener("drop", function (event) {
    if (!dragged) { return; }
    event.preventDefault();
  });

  list.addEventListener("dragend", function () {
    if (!dragged) { return; }
    dragged.classList.remove("dragging");
    dragged = null;
    var ranks = list.querySelectorAll("li.entry .rank");
    ranks.forEach(function (rank, i) { rank.textContent = String(i + 1); });
    if (order() === before) { return; }
    // The hidden order inputs sit in the rows, so the form posts them in the order shown.
    if (orderForm.requestSubmit) { orderForm.requestSubmit(); } else { orderForm.submit(); }
  });
})();
