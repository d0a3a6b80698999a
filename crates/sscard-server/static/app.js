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
// A form with data-same="a b" sends only when fields a and b hold the same value (a PIN typed
// twice); the server checks it again.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var names = form && form.getAttribute && form.getAttribute("data-same");
  if (!names) { return; }
  var pair = names.split(" ");
  var a = form.elements[pair[0]], b = form.elements[pair[1]];
  if (a && b && a.value !== b.value) {
    event.preventDefault();
    event.stopImmediatePropagation();
    b.setCustomValidity(form.getAttribute("data-same-message") || "");
    b.reportValidity();
  }
}, true);
document.addEventListener("input", function (event) {
  if (event.target && event.target.setCustomValidity) { event.target.setCustomValidity(""); }
}, true);
