// A mailed link carries its code after "#" (never sent to the server): fill the code field.
(function () {
  var found = /(?:^#|&)code=([^&]+)/.exec(window.location.hash);
  var field = document.getElementById("f-token");
  if (found && field && !field.value) {
    field.value = decodeURIComponent(found[1]);
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
})();
