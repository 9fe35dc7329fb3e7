// Progressive enhancement: live countdowns on the clock board (the page works without it).
(function () {
  var items = Array.prototype.slice.call(document.querySelectorAll(".countdown[data-seconds]"));
  var start = Date.now();
  function fmt(s) {
    if (s <= 0) return "overdue";
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (d ? d + "d " : "") + String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0") + ":" + String(sec).padStart(2, "0");
  }
  function tick() {
    var elapsed = Math.floor((Date.now() - start) / 1000);
    items.forEach(function (el) { el.textContent = fmt(parseInt(el.dataset.seconds, 10) - elapsed); });
  }
  tick();
  setInterval(tick, 1000);
})();
