/* The result forms: member rows added and removed in place, characters counted as they are
   typed, files uploaded with a progress bar. Without this file every action is a plain form
   post (the server adds and removes rows, and takes the file as multipart). */
(function () {
  "use strict";

  function chars(text) { return Array.from(text.replace(/\r\n/g, "\n")).length; }

  /* Member rows. */
  function renumber(box) {
    var rows = box.querySelectorAll("ol.rows > li");
    var add = box.querySelector(".add-row");
    var word = add.getAttribute("data-label");
    var removeWord = add.getAttribute("data-remove");
    rows.forEach(function (row, i) {
      var id = "f-members-" + i;
      var label = row.querySelector("label");
      var input = row.querySelector("input");
      var remove = row.querySelector("button.remove");
      label.setAttribute("for", id);
      label.textContent = word + " " + (i + 1);
      input.id = id;
      remove.value = "remove_row:" + i;
      remove.setAttribute("aria-label", removeWord + " " + (i + 1));
    });
    add.disabled = rows.length >= parseInt(box.getAttribute("data-max"), 10);
  }

  document.querySelectorAll(".members").forEach(function (box) {
    var list = box.querySelector("ol.rows");
    var template = box.querySelector("template#member-row");
    box.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      if (button.classList.contains("add-row")) {
        event.preventDefault();
        if (list.children.length >= parseInt(box.getAttribute("data-max"), 10)) { return; }
        list.appendChild(template.content.cloneNode(true));
        renumber(box);
        list.lastElementChild.querySelector("input").focus();
      } else if (button.classList.contains("remove")) {
        event.preventDefault();
        var row = button.closest("li");
        if (list.children.length > 1) {
          row.remove();
        } else {
          row.querySelector("input").value = "";
        }
        renumber(box);
        var first = list.querySelector("input");
        if (first) { first.focus(); }
      }
    });
  });

  /* Character counts. */
  var counted = document.querySelectorAll("textarea[data-count]");
  function showCount(area) {
    var out = document.getElementById("n-" + area.getAttribute("data-count"));
    var n = chars(area.value);
    var max = parseInt(area.getAttribute("data-max"), 10) || 0;
    var min = parseInt(area.getAttribute("data-min"), 10) || 0;
    var english = document.documentElement.lang === "en";
    var text = max ? n + " / " + max + (english ? " characters" : " 字") : n + (english ? " characters" : " 字");
    if (min) { text += english ? " · at least " + min : " · 至少 " + min + " 字"; }
    out.textContent = text;
    out.classList.toggle("over", max > 0 && n > max);
    out.classList.toggle("under", min > 0 && n < min);
  }
  function showTotal(group) {
    var out = document.querySelector("[data-total-of='" + group + "']");
    if (!out) { return; }
    var total = 0;
    document.querySelectorAll("textarea[data-total='" + group + "']").forEach(function (area) {
      total += chars(area.value);
    });
    var max = parseInt(out.getAttribute("data-max"), 10);
    var english = document.documentElement.lang === "en";
    out.textContent = english
      ? "The six parts together: " + total + " / " + max + " characters"
      : "六部分合计 " + total + " / " + max + " 字";
    out.classList.toggle("over", total > max);
  }
  counted.forEach(function (area) {
    area.addEventListener("input", function () {
      showCount(area);
      if (area.getAttribute("data-total")) { showTotal(area.getAttribute("data-total")); }
    });
  });

  /* Uploads: the file is the request's body, streamed by the server; the progress bar follows
     the upload. A refusal is the page again: its message beside this file input is shown. */
  document.querySelectorAll("form.upload").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("progress");
    var state = form.querySelector(".upload-state");
    var errors = form.querySelector(".upload-errors");
    var drop = form.querySelector(".drop");

    function refuse(message) {
      errors.textContent = "";
      var p = document.createElement("p");
      p.className = "error";
      p.id = errors.getAttribute("data-error-id");
      p.textContent = message;
      errors.appendChild(p);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", p.id);
      form.closest(".attachment").classList.add("has-error");
    }

    function upload() {
      var file = input.files && input.files[0];
      if (!file) { input.click(); return; }
      var url = form.action + "?name=" + encodeURIComponent(file.name);
      var replace = form.querySelector("input[name=replace]");
      if (replace) { url += "&replace=" + encodeURIComponent(replace.value); }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRF-Token", form.querySelector("input[name=csrf_token]").value);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("Accept", "text/html");
      bar.hidden = false;
      bar.value = 0;
      form.classList.add("uploading");
      form.querySelector("button[type=submit]").disabled = true;
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          bar.value = Math.round((event.loaded / event.total) * 100);
          state.textContent = bar.value + "%";
        }
      });
      xhr.addEventListener("load", function () {
        form.classList.remove("uploading");
        form.querySelector("button[type=submit]").disabled = false;
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 100;
          window.location.assign(xhr.responseURL || window.location.href);
          return;
        }
        bar.hidden = true;
        state.textContent = "";
        var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var found = page.getElementById(errors.getAttribute("data-error-id"));
        var alert = page.querySelector(".alert");
        refuse(found ? found.textContent : (alert ? alert.textContent.trim() : String(xhr.status)));
      });
      xhr.addEventListener("error", function () {
        form.classList.remove("uploading");
        form.querySelector("button[type=submit]").disabled = false;
        bar.hidden = true;
        refuse(document.documentElement.lang === "en" ? "The upload failed; try again." : "上传失败，请重试");
      });
      xhr.send(file);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      upload();
    });
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (event) {
        event.preventDefault();
        drop.classList.add("over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        upload();
      }
    });
  });
}());
