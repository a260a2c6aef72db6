// The privacy centre's one script: comfort only. Every page and form works without it.
// - A form refused with a problem moves focus to the problem, so screen readers announce it.
// - The one-time code field keeps only the digits typed or pasted.
// - Withdrawing a request asks for confirmation first.
// - On a narrow screen the notice's contents start folded, so the notice itself comes first.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  const contents = document.querySelector('.toc details');
  if (contents && window.matchMedia('(max-width: 48rem)').matches) contents.open = false;
  const problem = document.getElementById('problem');
  if (problem) problem.focus();
  const code = document.getElementById('code');
  if (code) {
    code.addEventListener('input', () => {
      const digits = code.value.replace(/\D/g, '').slice(0, 8);
      if (digits !== code.value) code.value = digits;
    });
  }
  for (const form of document.querySelectorAll('form[action$="/withdraw"]')) {
    form.addEventListener('submit', (event) => {
      const text = form.dataset.confirm;
      if (text && !window.confirm(text)) event.preventDefault();
    });
  }
});
