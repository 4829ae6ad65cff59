// refreshsim report.html (sweep): sortable, filterable variant table and the floor-constrained
// trade-off (duration vs surge cost among the variants whose worst run meets the floor). Which
// variants meet the floor and which are on the frontier come from S.tradeoff, computed by
// sweep::tradeoff in Rust for tradeoff.svg too; this script only draws them.
"use strict";
(function () {
  var S = JSON.parse(document.getElementById("report-data").textContent);
  var FLOOR = typeof S.floor === "number" ? S.floor : null;
  var TRADE = S.tradeoff || { meets_floor: [], frontier: [] };
  function metric(v, m, q) { var x = v.metrics && v.metrics[m]; return x && typeof x[q] === "number" ? x[q] : null; }
  function prob(v, p) { var x = v.probabilities && v.probabilities[p]; return x && typeof x.p === "number" ? x.p : null; }
  var rows = S.variants.map(function (v) {
    var r = {
      variant: v.variant, label: v.label, runs: v.runs,
      p_successful: prob(v, "p_successful"), p_operator_free: prob(v, "p_operator_free"),
      duration_p50: metric(v, "duration_s", "p50"), duration_p90: metric(v, "duration_s", "p90"),
      cap_worst: metric(v, "min_in_service_fraction", "min"), cap_p50: metric(v, "min_in_service_fraction", "p50"),
      below_floor_mean: metric(v, "below_floor_s", "mean"), surge_h: null,
      failed_pauses_mean: metric(v, "failed_pauses", "mean")
    };
    var surge = metric(v, "surge_instance_s", "mean");
    r.surge_h = surge == null ? null : surge / 3600;
    (S.keys || []).forEach(function (k) { r["k:" + k] = v.settings ? v.settings[k] : null; });
    r.meets_floor = TRADE.meets_floor[v.variant] === true;
    r.frontier = TRADE.frontier.indexOf(v.variant) >= 0 ? "frontier" : "";
    return r;
  });
  var cols = [{ key: "variant", name: "#", num: true }];
  (S.keys || []).forEach(function (k) { cols.push({ key: "k:" + k, name: k, num: false }); });
  cols = cols.concat([
    { key: "runs", name: "runs", num: true },
    { key: "p_successful", name: "P(successful)", num: true, fmt: 3 },
    { key: "p_operator_free", name: "P(no pause)", num: true, fmt: 3 },
    { key: "duration_p50", name: "duration p50 (s)", num: true, fmt: 0 },
    { key: "duration_p90", name: "duration p90 (s)", num: true, fmt: 0 },
    { key: "cap_worst", name: "capacity worst run", num: true, fmt: 3 },
    { key: "cap_p50", name: "capacity p50", num: true, fmt: 3 },
    { key: "below_floor_mean", name: "below floor mean (s)", num: true, fmt: 0 },
    { key: "surge_h", name: "surge instance-h mean", num: true, fmt: 2 },
    { key: "failed_pauses_mean", name: "FAILED_PAUSE mean", num: true, fmt: 2 },
    { key: "meets_floor", name: "meets floor", num: false },
    { key: "frontier", name: "trade-off", num: false }
  ]);
  var table = RefreshsimTable.create({
    table: document.getElementById("variant-table"), cols: cols, id: "variant", rowAttr: "data-variant",
    rowClass: function (r) { return (r.frontier ? "frontier " : "") + (r.meets_floor ? "" : "below-floor"); },
    onSort: function () { render(); }
  });
  var inputs = { floor: document.getElementById("f-floor"), p90: document.getElementById("f-p90"), psucc: document.getElementById("f-psucc") };
  if (FLOOR != null) inputs.floor.placeholder = String(FLOOR);

  var num = RefreshsimTable.num;
  function passes(r) {
    var f = num(inputs.floor), p = num(inputs.p90), s = num(inputs.psucc);
    if (f != null && !(r.cap_worst != null && r.cap_worst + 1e-12 >= f)) return false;
    if (p != null && !(r.duration_p90 != null && r.duration_p90 <= p)) return false;
    if (s != null && !(r.p_successful != null && r.p_successful + 1e-12 >= s)) return false;
    return true;
  }
  // The sweep's frontier (all variants that meet the floor), whatever the filters show.
  var front = rows.filter(function (r) { return r.frontier; });
  var eligible = rows.filter(function (r) { return r.meets_floor; });
  function render() {
    var shown = table.render(rows.filter(passes));
    document.getElementById("f-count").textContent = shown.length + " of " + rows.length + " variants shown";
    var text = document.getElementById("tradeoff-text");
    text.textContent = eligible.length === 0
      ? "No variant's worst run stays at or above the floor" + (FLOOR != null ? " (" + FLOOR + ")" : "") + ": nothing to trade off."
      : "Among the " + eligible.length + " variants whose worst run stays at or above the floor" + (FLOOR != null ? " (" + FLOOR + ")" : "") +
        ", the Pareto set (faster or cheaper than every other) is: " + front.slice().sort(function (a, b) { return a.duration_p50 - b.duration_p50; })
          .map(function (r) { return "#" + r.variant + " " + r.label + " (p50 " + Math.round(r.duration_p50) + " s, " + r.surge_h.toFixed(2) + " surge instance-h)"; }).join("; ") + ".";
    drawTradeoff(shown, front);
  }
  Object.keys(inputs).forEach(function (k) { inputs[k].addEventListener("input", render); });
  document.getElementById("f-clear").onclick = function () {
    Object.keys(inputs).forEach(function (k) { inputs[k].value = ""; });
    render();
  };

  var canvas = document.getElementById("tradeoff"), tip = document.getElementById("tip"), points = [];
  function drawTradeoff(shown, front) {
    var dpr = window.devicePixelRatio || 1, W = Math.max(320, canvas.parentNode.clientWidth || 800), H = 320;
    canvas.width = Math.round(W * dpr); canvas.height = H * dpr; canvas.style.height = H + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, W, H);
    var L = 70, R = 20, T = 16, B = 44;
    var pts = shown.filter(function (r) { return r.duration_p50 != null && r.surge_h != null; });
    points = [];
    ctx.font = "11px sans-serif"; ctx.fillStyle = "#222";
    if (!pts.length) { ctx.fillText("no variant to plot", L, T + 20); return; }
    var x0 = Infinity, x1 = -Infinity, y0 = 0, y1 = 0;
    pts.concat(front).forEach(function (r) { x0 = Math.min(x0, r.duration_p50); x1 = Math.max(x1, r.duration_p50); y1 = Math.max(y1, r.surge_h); });
    if (x1 - x0 < 1) { x0 -= 1; x1 += 1; }
    var padX = (x1 - x0) * 0.06; x0 -= padX; x1 += padX; y1 = y1 > 0 ? y1 * 1.1 : 1;
    function X(v) { return L + (v - x0) / (x1 - x0) * (W - L - R); }
    function Y(v) { return H - B - (v - y0) / (y1 - y0) * (H - T - B); }
    ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(L, T); ctx.lineTo(L, H - B); ctx.lineTo(W - R, H - B); ctx.stroke();
    ctx.textAlign = "center";
    for (var i = 0; i <= 5; i++) {
      var xv = x0 + (x1 - x0) * i / 5;
      ctx.fillText((xv / 60).toFixed(0) + " min", X(xv), H - B + 14);
      ctx.textAlign = "right"; var yv = y1 * i / 5; ctx.fillText(yv.toFixed(1), L - 6, Y(yv) + 4); ctx.textAlign = "center";
    }
    ctx.fillText("duration p50", L + (W - L - R) / 2, H - 8);
    ctx.save(); ctx.translate(14, T + (H - T - B) / 2); ctx.rotate(-Math.PI / 2); ctx.fillText("surge instance-hours (mean)", 0, 0); ctx.restore();
    var fr = front.slice().sort(function (a, b) { return a.duration_p50 - b.duration_p50; });
    if (fr.length > 1) {
      ctx.strokeStyle = "#009e73"; ctx.lineWidth = 2; ctx.beginPath();
      fr.forEach(function (r, k) { if (k === 0) ctx.moveTo(X(r.duration_p50), Y(r.surge_h)); else { ctx.lineTo(X(r.duration_p50), Y(fr[k - 1].surge_h)); ctx.lineTo(X(r.duration_p50), Y(r.surge_h)); } });
      ctx.stroke(); ctx.lineWidth = 1;
    }
    pts.forEach(function (r) {
      var px = X(r.duration_p50), py = Y(r.surge_h);
      ctx.fillStyle = r.frontier ? "#009e73" : r.meets_floor ? "#0072b2" : "#bbbbbb";
      ctx.beginPath(); ctx.arc(px, py, r.frontier ? 5 : 4, 0, 2 * Math.PI); ctx.fill();
      if (!r.meets_floor) { ctx.strokeStyle = "#d55e00"; ctx.beginPath(); ctx.moveTo(px - 4, py - 4); ctx.lineTo(px + 4, py + 4); ctx.stroke(); }
      points.push({ x: px, y: py, r: r });
    });
    ctx.textAlign = "left"; ctx.fillStyle = "#666";
    ctx.fillText("● frontier (meets floor)   ● meets floor   ✕ below floor (worst run)", L + 6, T + 4);
  }
  canvas.addEventListener("mousemove", function (ev) {
    var rect = canvas.getBoundingClientRect(), px = ev.clientX - rect.left, py = ev.clientY - rect.top;
    var best = null, bd = 64;
    points.forEach(function (p) { var d = (p.x - px) * (p.x - px) + (p.y - py) * (p.y - py); if (d < bd) { bd = d; best = p; } });
    if (!best) { tip.hidden = true; return; }
    var r = best.r;
    tip.textContent = "#" + r.variant + " " + r.label + ": duration p50 " + Math.round(r.duration_p50) + " s, p90 " + Math.round(r.duration_p90) +
      " s; surge " + r.surge_h.toFixed(2) + " instance-h; worst capacity " + (r.cap_worst == null ? "—" : r.cap_worst.toFixed(3)) + (r.meets_floor ? "" : " (below floor)");
    tip.hidden = false; tip.style.left = (ev.clientX + 12) + "px"; tip.style.top = (ev.clientY + 12) + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
  window.addEventListener("resize", render);
  render();
  window.refreshsimReport = { variants: rows.length, drawnAt: performance.now() };
  document.body.dataset.ready = "1";
})();
