// A final decision ("Annehmen", "Ablehnen") asks before it is sent. Without JavaScript the
// server shows a confirmation page instead; with it, this dialog answers that question and
// sets the form's "confirmed" field, so the page is skipped. The inbox's bulk button asks when
// the step chosen in its list is final (the option carries the question).
(function () {
  "use strict";
  function question(button) {
    if (button.hasAttribute("data-final")) {
      return button.getAttribute("data-confirm");
    }
    var list = document.getElementById(button.getAttribute("data-final-choice") || "");
    var option = list && list.selectedOptions && list.selectedOptions[0];
    if (!option) {
      return null;
    }
    // a required message still missing: the server refuses first, the question comes after
    var message = document.getElementById(option.getAttribute("data-needs-message") || "");
    if (message && !message.value.trim()) {
      return null;
    }
    return option.getAttribute("data-confirm");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-final], button[data-final-choice]");
    if (!button || !button.form) {
      return;
    }
    var confirmed = button.form.querySelector("input[name=confirmed]");
    var asked = question(button);
    if (!confirmed || !asked) {
      return;
    }
    if (window.confirm(asked)) {
      confirmed.value = "1";
    } else {
      event.preventDefault();
      confirmed.value = "";
    }
  });
})();
