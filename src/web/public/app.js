// Progressive enhancement only: every page works without this file.
import { initAll } from '/assets/nhsuk-frontend.min.js';

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
initAll();

// NHS.UK frontend marks radios that reveal more questions with aria-expanded, which ARIA does
// not allow on a radio (GOV.UK Frontend dropped it for that reason). The revealed questions
// follow the radio directly, so nothing is lost by removing it after each change.
const stripExpanded = () => {
  for (const radio of document.querySelectorAll('input[type="radio"][aria-expanded]')) radio.removeAttribute('aria-expanded');
};
stripExpanded();
for (const type of ['click', 'change']) document.addEventListener(type, stripExpanded);
window.addEventListener('pageshow', stripExpanded);
