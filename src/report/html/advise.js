// refreshsim report.html (advise): the candidates table (sortable, filterable) and the trade-off
// among the candidates that meet every constraint (floor, deadline, surge budget, completion, at
// the confidence). Which candidates are feasible, on the Pareto set and recommended comes from
// the data (advise::stats in Rust, as advice.json says); this script only draws them.
"use strict";
(function () {
  var A = JSON.parse(document.getElementById("report-data").textContent);
  var rows = (A.candidates || []).map(function (c) {
    var r = {
      id: c.id, label: c.label, runs: c.runs, complete: c.complete, feasible: c.feasible,
      pareto: c.pareto ? "Pareto" : "", recommended: c.recommended ? "★" : "",
      duration_p50: c.duration_s.p50, duration_p90: c.duration_s.p90, duration_p99: c.duration_s.p99,
      floor_p1: c.min_in_service.p1, floor_p50: c.min_in_service.p50,
      surge_h: c.surge_instance_hours, pause_chance: c.failure_pause_chance,
      broken: c.broken.join(", ")
    };
    (A.keys || []).forEach(function (k) { r["k:" + k] = c.settings ? c.settings[k] : null; });
    return r;
  });
  var cols = [{ key: "id", name: "#", fmt: 0 }];
  (A.keys || []).forEach(function (k) { cols.push({ key: "k:" + k, name: k }); });
  cols = cols.concat([
    { key: "runs", name: "runs", fmt: 0 },
    { key: "feasible", name: "meets every constraint" },
    { key: "broken", name: "constraints not met" },
    { key: "duration_p50", name: "duration p50 (s)", fmt: 0 },
    { key: "duration_p90", name: "duration p90 (s)", fmt: 0 },
    { key: "duration_p99", name: "duration p99 (s)", fmt: 0 },
    { key: "floor_p1", name: "in service p1", fmt: 0 },
    { key: "floor_p50", name: "in service p50", fmt: 0 },
    { key: "surge_h", name: "surge instance-h mean", fmt: 2 },
    { key: "pause_chance", name: "P(failure pause)", fmt: 3 },
    { key: "pareto", name: "trade-off" },
    { key: "recommended", name: "recommended" }
  ]);
  var inputs = {
    feasible: document.getElementById("f-feasible"), p90: document.getElementById("f-p90"),
    floor: document.getElementById("f-floor"), surge: document.getElementById("f-surge")
  };
  var num = RefreshsimTable.num;
  function passes(r) {
    var p = num(inputs.p90), f = num(inputs.floor), s = num(inputs.surge);
    if (inputs.feasible.checked && !r.feasible) return false;
    if (p != null && !(r.duration_p90 != null && r.duration_p90 <= p)) return false;
    if (f != null && !(r.floor_p1 != null && r.floor_p1 >= f)) return false;
    if (s != null && !(r.surge_h != null && r.surge_h <= s + 1e-9)) return false;
    return true;
  }
  var table = RefreshsimTable.create({
    table: document.getElementById("candidate-table"), cols: cols, id: "id", rowAttr: "data-candidate",
    rowClass: function (r) { return (r.pareto ? "frontier " : "") + (r.feasible ? "" : "below-floor"); },
    onSort: function () { render(); }
  });
  var feasible = rows.filter(function (r) { return r.feasible; });
  var front = rows.filter(function (r) { return r.pareto; });
  function render() {
    var shown = table.render(rows.filter(passes));
    document.getElementById("f-count").textContent = shown.length + " of " + rows.length + " candidates shown";
    var text = document.getElementById("tradeoff-text");
    text.textContent = feasible.length === 0
      ? "No candidate meets every constraint: nothing to trade off (the closest is named above)."
      : "Among the " + feasible.length + " candidates that meet every constraint, the Pareto set over (p90 duration, lowest in service, surge cost) is: " +
        front.slice().sort(function (a, b) { return a.duration_p90 - b.duration_p90; }).map(function (r) {
          return "#" + r.id + " " + r.label + " (p90 " + Math.round(r.duration_p90) + " s, p1 in service " + r.floor_p1 + ", " + r.surge_h.toFixed(2) + " surge instance-h)";
        }).join("; ") + (A.pareto_total > front.length ? " (" + A.pareto_total + " in all)" : "") + ".";
    drawTradeoff(shown.filter(function (r) { return r.feasible; }));
  }
  Object.keys(inputs).forEach(function (k) { inputs[k].addEventListener("input", render); });
  document.getElementById("f-clear").onclick = function () {
    inputs.feasible.checked = false;
    ["p90", "floor", "surge"].forEach(function (k) { inputs[k].value = ""; });
    render();
  };

  // p90 duration (x) against surge cost (y) of the feasible candidates shown.
  var canvas = document.getElementById("tradeoff"), tip = document.getElementById("tip"), points = [];
  function drawTradeoff(list) {
    var dpr = window.devicePixelRatio || 1, W = Math.max(320, canvas.parentNode.clientWidth || 800), H = 320;
    canvas.width = Math.round(W * dpr); canvas.height = H * dpr; canvas.style.height = H + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, W, H);
    var L = 70, R = 20, T = 16, B = 44;
    var pts = list.filter(function (r) { return r.duration_p90 != null && r.surge_h != null; });
    points = [];
    ctx.font = "11px sans-serif"; ctx.fillStyle = "#222";
    if (!pts.length) { ctx.fillText("no feasible candidate to plot", L, T + 20); return; }
    var x0 = Infinity, x1 = -Infinity, y1 = 0;
    pts.forEach(function (r) { x0 = Math.min(x0, r.duration_p90); x1 = Math.max(x1, r.duration_p90); y1 = Math.max(y1, r.surge_h); });
    if (x1 - x0 < 1) { x0 -= 60; x1 += 60; }
    var padX = (x1 - x0) * 0.06; x0 = Math.max(0, x0 - padX); x1 += padX; y1 = y1 > 0 ? y1 * 1.1 : 1;
    function X(v) { return L + (v - x0) / (x1 - x0) * (W - L - R); }
    function Y(v) { return H - B - v / y1 * (H - T - B); }
    ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(L, T); ctx.lineTo(L, H - B); ctx.lineTo(W - R, H - B); ctx.stroke();
    ctx.textAlign = "center";
    for (var i = 0; i <= 5; i++) {
      var xv = x0 + (x1 - x0) * i / 5;
      ctx.fillText((xv / 60).toFixed(0) + " min", X(xv), H - B + 14);
      ctx.textAlign = "right"; var yv = y1 * i / 5; ctx.fillText(yv.toFixed(y1 < 1 ? 3 : y1 < 10 ? 2 : 1), L - 6, Y(yv) + 4); ctx.textAlign = "center";
    }
    ctx.fillText("duration p90", L + (W - L - R) / 2, H - 8);
    ctx.save(); ctx.translate(14, T + (H - T - B) / 2); ctx.rotate(-Math.PI / 2); ctx.fillText("surge instance-hours (mean)", 0, 0); ctx.restore();
    pts.forEach(function (r) {
      var px = X(r.duration_p90), py = Y(r.surge_h);
      ctx.fillStyle = r.pareto ? "#009e73" : "#0072b2";
      ctx.beginPath(); ctx.arc(px, py, r.pareto ? 5 : 3.5, 0, 2 * Math.PI); ctx.fill();
      if (r.recommended) { ctx.strokeStyle = "#d55e00"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(px, py, 9, 0, 2 * Math.PI); ctx.stroke(); ctx.lineWidth = 1; }
      points.push({ x: px, y: py, r: r });
    });
    ctx.textAlign = "left"; ctx.fillStyle = "#666";
    ctx.fillText("● Pareto set   ● feasible   ◯ recommended", L + 6, T + 4);
  }
  canvas.addEventListener("mousemove", function (ev) {
    var rect = canvas.getBoundingClientRect(), px = ev.clientX - rect.left, py = ev.clientY - rect.top;
    var best = null, bd = 64;
    points.forEach(function (p) { var d = (p.x - px) * (p.x - px) + (p.y - py) * (p.y - py); if (d < bd) { bd = d; best = p; } });
    if (!best) { tip.hidden = true; return; }
    var r = best.r;
    tip.textContent = "#" + r.id + " " + r.label + ": duration p50 " + Math.round(r.duration_p50) + " s, p90 " + Math.round(r.duration_p90) +
      " s; in service p1 " + r.floor_p1 + "; surge " + r.surge_h.toFixed(2) + " instance-h" + (r.pareto ? "; Pareto set" : "") + (r.recommended ? "; recommended" : "");
    tip.hidden = false; tip.style.left = (ev.clientX + 12) + "px"; tip.style.top = (ev.clientY + 12) + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
  window.addEventListener("resize", render);
  render();
  window.refreshsimReport = { candidates: rows.length, drawnAt: performance.now() };
  document.body.dataset.ready = "1";
})();
