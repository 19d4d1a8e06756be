/* Keyboard shortcuts on the receipt review page (MoonVPN console; no library).
   a: approve, r: reject (reason page), 1-9: reject with that preset reason,
   n: next waiting receipt. Ignored while typing in a field or with a modifier key. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var key = event.key.toLowerCase();
    var element = null;
    if (key === "a") element = document.getElementById("receipt-approve");
    else if (key === "r") element = document.getElementById("receipt-reject");
    else if (key === "n") element = document.getElementById("receipt-next");
    else if (/^[1-9]$/.test(key)) element = document.querySelectorAll("#reject-reasons .reject-preset")[Number(key) - 1] || null;
    if (!element) return;
    event.preventDefault();
    element.click();
  });
})();
