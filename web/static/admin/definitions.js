/**
 * The definitions list: the new form's (or workflow's) id is proposed from its title while
 * the id box has not been edited by hand — the same rule as the server's proposed_id
 * (engine/services/editing.py): ä/ö/ü/ß → ae/oe/ue/ss, lowercase, other characters → "-".
 */
(function () {
  'use strict';
  const title = document.getElementById('new-title-input');
  const id = document.getElementById('new-id');
  if (!title || !id) return;
  const UMLAUTS = { 'ä': 'ae', 'ö': 'oe', 'ü': 'ue', 'ß': 'ss', 'Ä': 'ae', 'Ö': 'oe', 'Ü': 'ue' };

  function proposedId(text) {
    let words = text.replace(/[äöüßÄÖÜ]/g, (c) => UMLAUTS[c]).toLowerCase()
      .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
    if (!words) return '';
    if (!/^[a-z]/.test(words)) words = 'form-' + words;
    return words.slice(0, 64).replace(/-+$/, '');
  }

  let touched = id.value !== '' && id.value !== proposedId(title.value);
  id.addEventListener('input', () => { touched = id.value !== ''; });
  title.addEventListener('input', () => { if (!touched) id.value = proposedId(title.value); });
})();
