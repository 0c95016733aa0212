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
/* Relations chosen by typing (app/core/choices.py): a <select data-remote> holds only the chosen
   row; select2 asks the view for the rows matching what is typed. Boxes added later (FAB's
   search filters copy the field when a filter is added) are set up as they appear. */
if (window.jQuery && jQuery.fn.select2) {
  jQuery(function ($) {
    function remote(select) {
      var $select = $(select);
      if ($select.data("select2") || !$select.closest("body").length) { return; }
      $select.select2({
        theme: "bootstrap", allowClear: true, width: "100%",
        placeholder: $select.attr("data-placeholder") || "",
        minimumInputLength: 1,
        language: {
          inputTooShort: function () { return $select.attr("data-msg-type"); },
          noResults: function () { return $select.attr("data-msg-none"); },
          searching: function () { return $select.attr("data-msg-searching"); },
          errorLoading: function () { return $select.attr("data-msg-error"); }
        },
        ajax: {
          url: $select.attr("data-remote"), dataType: "json", delay: 250,
          data: function (params) { return {q: params.term || ""}; },
          processResults: function (data) { return data; }
        }
      });
      /* named after the field's label, as FAB's own boxes are above */
      var label = select.id ? $.trim($("label[for='" + select.id + "']").first().text()) : "";
      var box = $select.next(".select2-container");
      if (label) {
        /* the box and the text it shows (a textbox to assistive technology: empty until a
           row is chosen, so it needs the name too) */
        label = label.replace(/\s*\*$/, "");
        box.find(".select2-selection, .select2-selection__rendered").attr("aria-label", label);
      }
      box.find("ul.select2-selection__rendered").attr("role", "presentation");
      /* A filter restored from the address holds an id: show the row's name. */
      var value = $select.val();
      if (value && $select.find("option[value='" + value + "']").text() === "") {
        $.getJSON($select.attr("data-remote"), {id: value}, function (data) {
          if (data.results.length) {
            $select.find("option[value='" + value + "']").text(data.results[0].text);
            $select.trigger("change.select2");
          }
        });
      }
    }
    $("select[data-remote]").each(function () { remote(this); });
    new MutationObserver(function () {
      $("select[data-remote]").each(function () { remote(this); });
    }).observe(document.body, {childList: true, subtree: true});
  });
}
