/*
 * formflow-page.js — the small glue of the applicant pages (no dependencies, no inline code).
 *
 * 1. Moves focus to the error summary when the server rendered one, so keyboard and screen
 *    reader users land on the list of problems (the `autofocus` attribute does the same in
 *    browsers that honour it on non-form elements; doing it twice is harmless).
 * 2. Makes the language switch keep what the applicant has typed on a step page: instead of
 *    following the link (which would show the last *saved* answers), it sends the step form
 *    with `_action=lang:<code>`; the server saves without validating and shows the same step
 *    in the other language. Without JavaScript the link still works.
 *
 * Live show/hide/require and the character counters are formflow-form.js's job.
 */
(function () {
  'use strict';

  function focusErrorSummary() {
    var summary = document.getElementById('error-summary');
    if (summary && document.activeElement !== summary) {
      summary.focus();
    }
  }

  function keepAnswersOnLanguageSwitch() {
    var form = document.getElementById('step-form');
    if (!form) return;
    var links = document.querySelectorAll('a[data-lang-switch]');
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener('click', function (event) {
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
            event.shiftKey || event.altKey) {
          return; // opening in a new tab/window: let the link do it
        }
        event.preventDefault();
        var action = document.createElement('input');
        action.type = 'hidden';
        action.name = '_action';
        action.value = 'lang:' + link.getAttribute('data-lang-switch');
        form.appendChild(action);
        form.submit();
      });
    });
  }

  function start() {
    focusErrorSummary();
    keepAnswersOnLanguageSwitch();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
