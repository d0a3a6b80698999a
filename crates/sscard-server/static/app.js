// sscard pages: the few behaviours that need script. The Content-Security-Policy allows
// scripts from this origin only, so no page carries inline handlers.
"use strict";
// A form with data-confirm asks before it is sent (for steps that cannot be undone).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);
