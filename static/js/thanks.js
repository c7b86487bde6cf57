/* surveyapp thank-you page: copy the receipt code; on a kiosk, every way back to a blank form
   replaces this page in the history, so Back never returns to a previous citizen's pages.
   The page works without this file (the code is plain text; the kiosk resets by meta refresh). */
(function () {
  "use strict";
  var copy = document.querySelector("button.copy");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(copy.dataset.copy).then(function () {
        copy.textContent = copy.dataset.done;
      });
    });
  }
  var card = document.querySelector("[data-kiosk-reset]");
  if (!card) return;
  var reset = card.dataset.kioskReset;
  var leave = function () { window.location.replace(reset); };
  window.setTimeout(leave, parseInt(card.dataset.kioskSeconds, 10) * 1000);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.origin !== window.location.origin) return;
    event.preventDefault();
    window.location.replace(link.href);
  });
  window.addEventListener("pageshow", function (event) { if (event.persisted) leave(); });
})();
