/* The back office's own behaviour, loaded on every page after FAB's scripts.
   Decision buttons (data-confirm) ask before they send; those that need a written reason
   (data-needs-opinion) say so beside the opinion box instead of sending an empty one. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (!button) { return; }
    var form = button.form;
    var opinion = form && form.querySelector("textarea[name=opinion]");
    var missing = form && form.querySelector(".opinion-missing");
    if (button.hasAttribute("data-needs-opinion") && opinion && !opinion.value.trim()) {
      event.preventDefault();
      if (missing) { missing.classList.remove("hidden"); }
      opinion.closest(".form-group").classList.add("has-error");
      opinion.setAttribute("aria-invalid", "true");
      opinion.focus();
      return;
    }
    if (!window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  /* Text areas with a maxlength show how much is written (the need template's sections). */
  function count(area) {
    var counter = area.parentNode.querySelector(".char-counter");
    if (!counter) {
      counter = document.createElement("span");
      counter.className = "char-counter help-block";
      counter.setAttribute("aria-live", "polite");
      area.insertAdjacentElement("afterend", counter);
    }
    counter.textContent = area.value.length + " / " + area.getAttribute("maxlength");
  }
  document.querySelectorAll("textarea[maxlength]").forEach(function (area) {
    count(area);
    area.addEventListener("input", function () { count(area); });
  });
}());
/* select2's boxes (made by FAB's ab.js) named after their field's label, which names only the
   hidden <select>; its list of chosen items is layout, not a list. */
if (window.jQuery) {
  jQuery(function ($) {
    $("select.select2-hidden-accessible, select[data-select2-id]").each(function () {
      var label = this.id ? $.trim($("label[for='" + this.id + "']").first().text()) : "";
      label = label.replace(/\s*\*$/, "");
      var box = $(this).next(".select2-container");
      if (label) {
        box.find(".select2-search__field").attr("aria-label", label);
        box.find(".select2-selection").attr("aria-label", label);
      }
      box.find("ul.select2-selection__rendered").attr("role", "presentation");
    });
  });
}
