// A final decision ("Annehmen", "Ablehnen") asks before it is sent. Without JavaScript the
// server shows a confirmation page instead; with it, this dialog answers that question and
// sets the form's "confirmed" field, so the page is skipped.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-final]");
    if (!button || !button.form) {
      return;
    }
    var confirmed = button.form.querySelector("input[name=confirmed]");
    if (!confirmed) {
      return;
    }
    if (window.confirm(button.getAttribute("data-confirm"))) {
      confirmed.value = "1";
    } else {
      event.preventDefault();
      confirmed.value = "";
    }
  });
})();
