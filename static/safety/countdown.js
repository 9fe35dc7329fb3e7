// Progressive enhancement: live countdowns on the clock board (the page works without it).
(function () {
  var items = Array.prototype.slice.call(document.querySelectorAll(".countdown[data-seconds]"));
  var start = Date.now();
  // The same words as the server's hours_minutes filter (ecrf/core/templatetags/human.py).
  function fmt(s) {
    var total = Math.floor(Math.abs(s) / 60), d = Math.floor(total / 1440), h = Math.floor((total % 1440) / 60), m = total % 60;
    var text = d >= 2 ? d + " d " + h + " h" : (d * 24 + h) + " h " + m + " min";
    return s >= 0 ? text : "overdue by " + text;
  }
  function tick() {
    var elapsed = Math.floor((Date.now() - start) / 1000);
    items.forEach(function (el) { el.textContent = fmt(parseInt(el.dataset.seconds, 10) - elapsed); el.dataset.live = "1"; });
  }
  tick();
  setInterval(tick, 1000);
})();
