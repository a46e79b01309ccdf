/* The main navigation's dropdowns (<details> groups) work without script; this only closes an
   open dropdown as a menu is expected to: on Escape (focus back on its label), on a click
   elsewhere, and when the focus leaves it. On a phone, where the groups unfold in place inside
   菜单, it leaves them alone. */
(function () {
  "use strict";
  var groups = document.querySelectorAll(".main-nav .group > details");
  function dropdown(group) {
    var list = group.querySelector("ul");
    return list !== null && getComputedStyle(list).position === "absolute";
  }
  function close(group) {
    if (group.open && dropdown(group)) { group.open = false; }
  }
  groups.forEach(function (group) {
    group.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && group.open) {
        group.open = false;
        group.querySelector("summary").focus();
      }
    });
    group.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !group.contains(event.relatedTarget)) { close(group); }
    });
  });
  document.addEventListener("click", function (event) {
    groups.forEach(function (group) {
      if (!group.contains(event.target)) { close(group); }
    });
  });
})();
