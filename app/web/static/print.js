// A 打印本页 button for the print view; without JavaScript the browser's own print works.
(function () {
  "use strict";
  var b = document.querySelector("[data-print]");
  if (!b || !window.print) { return; }
  b.hidden = false;
  b.addEventListener("click", function () { window.print(); });
}());
