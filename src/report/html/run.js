// refreshsim report.html (run): Gantt and capacity curve on <canvas>, shared time view.
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var END = Math.max(D.end_ms, 1);
  var L = 170, R = 12, AXIS_H = 40;
  var ROW_A = 16, ROW_B = 18, ROW_I = 10, INST_MAX_H = 600;
  var COL = {
    sky: "#56b4e9", green: "#009e73", red: "#d55e00", orange: "#e69f00", grey: "#999999",
    purple: "#cc79a7", blue: "#0072b2", yellow: "#f0e442", ink: "#222", muted: "#666", grid: "#e4e4e4"
  };
  var OUTCOME = { SUCCESSFUL: "#8fd3b9", FAILED: "#f0a27a", CANCELLED: "#cccccc", NOT_FOUND: "#e3b3cf", IN_FLIGHT: "#a9d8f3" };
  var OUTCOME_MARK = { SUCCESSFUL: null, FAILED: COL.red, CANCELLED: COL.grey, NOT_FOUND: COL.purple, IN_FLIGHT: null };
  var PHASE = ["#0072b2", "#e69f00", "#cc79a7", "#009e73", "#555555"];
  var BATCH = {
    SUCCESSFUL: COL.green, PARTIALLY_SUCCESSFUL: COL.orange, FAILED: COL.red,
    CANCELLED: COL.grey, WAITING: null, INIT: COL.sky, RUNNING: COL.sky
  };
  var FAILS = { FAILED: true, PARTIALLY_SUCCESSFUL: true };
  var ACT = {
    INIT: "#bbbbbb", RUNNING: COL.sky, SUCCESSFUL: COL.green, FAILED_PAUSE: COL.red, AUTO_PAUSE: COL.yellow,
    MANUAL_PAUSE: COL.blue, CANCELLED: COL.grey, FAILED: COL.red
  };
  var PAUSE = { AUTO_PAUSE: "rgba(240,228,66,0.30)", MANUAL_PAUSE: "rgba(0,114,178,0.12)", FAILED_PAUSE: "rgba(213,94,0,0.14)" };

  var view = { t0: 0, t1: END };
  var capZoom = (D.in_service_before || 0) >= 50;

  // ---- time formatting --------------------------------------------------------------------
  function dur(ms) {
    if (ms <= 0) return "0s";
    var s = Math.floor(ms / 1000), rem = ms % 1000, h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    var out = (h ? h + "h" : "") + (m ? m + "m" : "") + (sec ? sec + "s" : "");
    if (rem && h === 0) out += rem + "ms";
    return out || "0s";
  }
  function utc(ms) { return new Date(D.epoch_ms + ms).toISOString().replace(".000Z", "Z"); }
  function when(ms) { return utc(ms) + " (+" + dur(ms) + ")"; }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  // ---- rows -------------------------------------------------------------------------------
  var rows = [];
  var nInst = D.instances.length, nOther = D.others.length;
  var instH = nInst * ROW_I <= INST_MAX_H ? ROW_I : INST_MAX_H / Math.max(nInst, 1);
  var otherH = nOther * ROW_I <= INST_MAX_H / 2 ? ROW_I : (INST_MAX_H / 2) / Math.max(nOther, 1);
  var dense = instH < ROW_I || otherH < ROW_I;
  (function buildRows() {
    var y = AXIS_H;
    function push(kind, idx, h) { rows.push({ kind: kind, idx: idx, y: y, h: h }); y += h; }
    var byAct = D.activities.map(function () { return { b: [], i: [] }; });
    D.batches.forEach(function (b, i) { if (byAct[b.a]) byAct[b.a].b.push(i); });
    D.instances.forEach(function (it, i) { if (byAct[it.a]) byAct[it.a].i.push(i); });
    D.activities.forEach(function (a, ai) {
      push("a", ai, ROW_A);
      byAct[ai].b.forEach(function (bi) { push("b", bi, ROW_B); });
      byAct[ai].i.forEach(function (ii) { push("i", ii, instH); });
    });
    if (nOther) {
      push("h", 0, ROW_A);
      for (var o = 0; o < nOther; o++) push("o", o, otherH);
    }
    rows.height = y + 8;
  })();

  // ---- canvases ---------------------------------------------------------------------------
  var gantt = document.getElementById("gantt"), cap = document.getElementById("capacity");
  var tip = document.getElementById("tip");
  var CAP_H = 240, CAP_TOP = 14, CAP_BOTTOM = 34;
  var W = 800;

  function setup(canvas, h) {
    var dpr = window.devicePixelRatio || 1;
    W = Math.max(300, canvas.parentNode.clientWidth || 800);
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.height = h + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, h);
    return ctx;
  }
  function x(t) { return L + (t - view.t0) / (view.t1 - view.t0) * (W - L - R); }
  function tAt(px) { return view.t0 + (px - L) / (W - L - R) * (view.t1 - view.t0); }
  function clipX(a, b) {
    var xa = Math.max(x(a), L), xb = Math.min(x(b), W - R);
    return xb >= xa ? [xa, xb] : null;
  }
  function bar(ctx, a, b, y, h, colour, minW) {
    var c = clipX(a, b);
    if (!c) return;
    ctx.fillStyle = colour;
    var w = Math.max(c[1] - c[0], minW || 0);
    ctx.fillRect(c[0], y, w, h);
  }

  var STEPS = [100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5];
  function ticks() {
    var span = view.t1 - view.t0, want = Math.max(2, Math.floor((W - L - R) / 110));
    var step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) if (span / STEPS[i] <= want) { step = STEPS[i]; break; }
    var out = [];
    for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) out.push(t);
    return out;
  }
  function grid(ctx, top, bottom, labels) {
    ctx.font = "11px sans-serif";
    ctx.textAlign = "center";
    ticks().forEach(function (t) {
      var px = x(t);
      ctx.textAlign = px < L + 30 ? "left" : px > W - R - 30 ? "right" : "center";
      ctx.strokeStyle = COL.grid;
      ctx.beginPath(); ctx.moveTo(px + 0.5, top); ctx.lineTo(px + 0.5, bottom); ctx.stroke();
      if (labels === "top") {
        ctx.fillStyle = COL.ink; ctx.fillText("+" + dur(t), px, 14);
        ctx.fillStyle = COL.muted; ctx.fillText(utc(t).slice(11, 19) + "Z", px, 28);
      } else if (labels === "bottom") {
        ctx.fillStyle = COL.ink; ctx.fillText("+" + dur(t), px, bottom + 13);
        ctx.fillStyle = COL.muted; ctx.fillText(utc(t).slice(11, 19) + "Z", px, bottom + 26);
      }
    });
    ctx.textAlign = "left";
  }

  var pauses = [];
  D.activities.forEach(function (a, ai) {
    var open = null;
    a.st.forEach(function (s) {
      if (open) { pauses.push({ a: ai, status: open.status, s: open.t, e: s[0] }); open = null; }
      if (PAUSE[s[2]]) open = { status: s[2], t: s[0] };
    });
    if (open) pauses.push({ a: ai, status: open.status, s: open.t, e: END });
  });
  function shadePauses(ctx, top, bottom) {
    pauses.forEach(function (p) { bar(ctx, p.s, p.e, top, bottom - top, PAUSE[p.status], 1); });
  }

  function activityEnd(a) {
    var last = a.st[a.st.length - 1];
    return last && /^(SUCCESSFUL|FAILED|CANCELLED)$/.test(last[2]) ? last[0] : END;
  }
  function segments(st, end) {
    // [start, end, status, nextStatus] for each status held between transitions.
    var out = [];
    for (var k = 0; k < st.length; k++) {
      var s = st[k], next = st[k + 1];
      out.push([s[0], next ? next[0] : end, s[2], next ? next[2] : null]);
    }
    return out;
  }

  function drawGantt() {
    var ctx = setup(gantt, rows.height);
    grid(ctx, AXIS_H - 6, rows.height, "top");
    shadePauses(ctx, AXIS_H, rows.height);
    ctx.font = "11px sans-serif";
    ctx.save();
    rows.forEach(function (r) {
      var mid = r.y + r.h / 2;
      if (r.kind === "a") {
        var a = D.activities[r.idx];
        ctx.fillStyle = COL.ink; ctx.font = "bold 11px sans-serif";
        ctx.fillText(a.id, 4, mid + 4); ctx.font = "11px sans-serif";
        segments(a.st, activityEnd(a)).forEach(function (s) {
          if (/^(SUCCESSFUL|FAILED|CANCELLED)$/.test(s[2])) return;
          bar(ctx, s[0], s[1], r.y + 5, r.h - 10, ACT[s[2]] || COL.grey, 1);
        });
        if (a.st.length === 0) bar(ctx, a.created, END, r.y + 5, r.h - 10, "#bbbbbb", 1);
        a.ph.forEach(function (p) {
          var c = clipX(p[0], p[0]);
          if (!c) return;
          ctx.fillStyle = COL.ink; ctx.fillRect(c[0], r.y + 2, 1, r.h - 4);
        });
      } else if (r.kind === "b") {
        var b = D.batches[r.idx];
        ctx.fillStyle = COL.ink;
        ctx.fillText("batch " + b.n + (b.retries ? " ↻" + b.retries : ""), 14, mid + 4);
        segments(b.st, END).forEach(function (s) {
          var colour;
          if (s[2] === "INIT" || s[2] === "RUNNING") colour = s[3] ? (BATCH[s[3]] || COL.sky) : COL.sky;
          else if (FAILS[s[2]] && s[3]) colour = "rgba(213,94,0,0.25)";
          else return;
          bar(ctx, s[0], s[1], r.y + 3, r.h - 6, colour, 1);
        });
        b.st.forEach(function (s) {
          var c = clipX(s[0], s[0]);
          if (!c) return;
          if (FAILS[s[2]]) {
            ctx.fillStyle = COL.red;
            ctx.beginPath(); ctx.moveTo(c[0], r.y + r.h - 1); ctx.lineTo(c[0] - 4, r.y + r.h + 5);
            ctx.lineTo(c[0] + 4, r.y + r.h + 5); ctx.closePath(); ctx.fill();
            ctx.fillRect(c[0] - 1, r.y + 1, 2, r.h - 2);
          } else if (FAILS[s[1]]) {
            ctx.strokeStyle = COL.ink; ctx.lineWidth = 1.5;
            ctx.beginPath(); ctx.arc(c[0], mid, 4, 0.3, 2 * Math.PI - 0.3); ctx.stroke(); ctx.lineWidth = 1;
          }
        });
      } else if (r.kind === "i") {
        var it = D.instances[r.idx];
        if (r.h >= 9) { ctx.fillStyle = COL.muted; ctx.fillText(it.id, 26, mid + 4); }
        var pad = r.h >= 6 ? 1 : 0, inset = r.h >= 6 ? 2 : 0;
        it.sp.forEach(function (s) { bar(ctx, s[0], s[1], r.y + pad, r.h - 2 * pad, OUTCOME[s[2]], 1); });
        it.ph.forEach(function (p) { bar(ctx, p[0], p[1], r.y + pad + inset, r.h - 2 * (pad + inset), PHASE[p[2]], 0.5); });
        it.sp.forEach(function (s) {
          var m = OUTCOME_MARK[s[2]];
          if (m) bar(ctx, s[1], s[1], r.y, Math.max(r.h, 1), m, 2);
        });
        it.skipped.forEach(function (t) { bar(ctx, t, t, r.y, Math.max(r.h, 1), COL.ink, 1); });
      } else if (r.kind === "h") {
        ctx.fillStyle = COL.ink; ctx.font = "bold 11px sans-serif";
        ctx.fillText("other instances", 4, mid + 4); ctx.font = "11px sans-serif";
      } else if (r.kind === "o") {
        var o = D.others[r.idx];
        if (r.h >= 9) { ctx.fillStyle = COL.muted; ctx.fillText(o.id + (o.surge ? " (surge)" : ""), 14, mid + 4); }
        var j = o.joined == null ? 0 : o.joined, l = o.left == null ? END : o.left;
        bar(ctx, j, l, mid - Math.max(r.h / 6, 0.5), Math.max(r.h / 3, 1), "#cfcfcf", 1);
        o.ph.forEach(function (p) { bar(ctx, p[0], p[1], r.y + (r.h >= 6 ? 1 : 0), r.h - (r.h >= 6 ? 2 : 0), PHASE[p[2]], 0.5); });
      }
    });
    ctx.restore();
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, L - 2, AXIS_H - 8);
    ctx.fillStyle = COL.ink; ctx.fillText("simulated time", 4, 14);
    ctx.fillStyle = COL.muted; ctx.fillText("UTC", 4, 28);
  }

  // ---- capacity ---------------------------------------------------------------------------
  var steps = D.capacity;
  // The capacity threshold the summary's time below floor is measured against.
  var threshold = (D.threshold_permille > 0 && D.in_service_before != null) ? D.threshold_permille * D.in_service_before / 1000 : null;
  function countAt(t) {
    var lo = 0, hi = steps.length - 1, c = 0;
    while (lo <= hi) { var m = (lo + hi) >> 1; if (steps[m][0] <= t) { c = steps[m][1]; lo = m + 1; } else hi = m - 1; }
    return c;
  }
  function capRange() {
    var lo = Infinity, hi = 0;
    steps.forEach(function (s) { lo = Math.min(lo, s[1]); hi = Math.max(hi, s[1]); });
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (threshold != null) { lo = Math.min(lo, threshold); hi = Math.max(hi, threshold); }
    if (!capZoom) return [0, Math.max(hi, 1) * 1.05];
    var pad = Math.max(1, (hi - lo) * 0.1);
    return [Math.max(0, Math.floor(lo - pad)), Math.ceil(hi + pad)];
  }
  function drawCapacity() {
    var ctx = setup(cap, CAP_H);
    var top = CAP_TOP, bottom = CAP_H - CAP_BOTTOM, rg = capRange();
    function y(c) { return bottom - (c - rg[0]) / (rg[1] - rg[0]) * (bottom - top); }
    grid(ctx, top, bottom, "bottom");
    shadePauses(ctx, top, bottom);
    ctx.font = "11px sans-serif"; ctx.textAlign = "right";
    var span = rg[1] - rg[0], raw = span / 5, mag = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
    var step = [1, 2, 5, 10].map(function (k) { return k * mag; }).filter(function (s) { return s >= raw; })[0] || mag * 10;
    for (var c = Math.ceil(rg[0] / step) * step; c <= rg[1]; c += step) {
      ctx.strokeStyle = COL.grid; ctx.beginPath(); ctx.moveTo(L, y(c) + 0.5); ctx.lineTo(W - R, y(c) + 0.5); ctx.stroke();
      ctx.fillStyle = COL.muted; ctx.fillText(String(Math.round(c)), L - 6, y(c) + 4);
    }
    ctx.textAlign = "left";
    ctx.fillStyle = COL.ink; ctx.fillText("in service", 4, top + 10);
    ctx.fillStyle = COL.muted; ctx.fillText(capZoom ? "(axis zoomed)" : "(axis from 0)", 4, top + 24);
    ctx.save(); ctx.beginPath(); ctx.rect(L, top - 2, W - L - R, bottom - top + 4); ctx.clip();
    ctx.beginPath();
    var started = false, prev = 0;
    for (var i = 0; i < steps.length; i++) {
      var px = x(steps[i][0]), py = y(steps[i][1]);
      if (!started) { ctx.moveTo(Math.min(px, L), py); started = true; }
      else { ctx.lineTo(px, y(prev)); ctx.lineTo(px, py); }
      prev = steps[i][1];
    }
    if (started) ctx.lineTo(W - R, y(prev));
    ctx.strokeStyle = COL.blue; ctx.lineWidth = 1.5; ctx.stroke(); ctx.lineWidth = 1;
    if (threshold != null) {
      ctx.setLineDash([6, 4]); ctx.strokeStyle = COL.red;
      ctx.beginPath(); ctx.moveTo(L, y(threshold)); ctx.lineTo(W - R, y(threshold)); ctx.stroke(); ctx.setLineDash([]);
      ctx.fillStyle = COL.red;
      ctx.fillText("threshold " + D.threshold_permille / 10 + "% of " + D.in_service_before + " = " + (Math.round(threshold * 10) / 10) +
        (D.floor_fraction != null ? " · lowest " + Math.round(D.floor_fraction * D.in_service_before) + " (" + Math.round(D.floor_fraction * 1000) / 10 + "%)" : ""), L + 6, y(threshold) - 4);
    }
    ctx.restore();
  }

  function draw() {
    drawGantt();
    drawCapacity();
  }

  // ---- legend -----------------------------------------------------------------------------
  (function legend() {
    var items = [];
    function sw(colour, label) { items.push('<span><span class="sw" style="background:' + colour + '"></span>' + esc(label) + "</span>"); }
    sw(COL.sky, "batch running"); sw(COL.green, "batch SUCCESSFUL"); sw(COL.orange, "PARTIALLY_SUCCESSFUL");
    sw(COL.red, "batch FAILED (▲: ended FAILED or PARTIALLY_SUCCESSFUL)"); sw("rgba(213,94,0,0.25)", "failed, waiting for retry (○ retry)");
    D.phase_kinds.forEach(function (k, i) { sw(PHASE[i], k); });
    sw(OUTCOME.SUCCESSFUL, "instance SUCCESSFUL"); sw(OUTCOME.FAILED, "instance FAILED"); sw(OUTCOME.NOT_FOUND, "NOT_FOUND");
    sw(OUTCOME.CANCELLED, "CANCELLED"); sw(OUTCOME.IN_FLIGHT, "in flight at run end");
    sw(PAUSE.AUTO_PAUSE, "AUTO_PAUSE"); sw(PAUSE.MANUAL_PAUSE, "MANUAL_PAUSE"); sw(PAUSE.FAILED_PAUSE, "FAILED_PAUSE");
    sw(COL.blue, "in service"); sw(COL.red, "capacity threshold (dashed)");
    document.getElementById("legend").innerHTML = items.join("");
    var note = document.getElementById("density-note");
    note.textContent = dense
      ? "Density view: " + nInst + " refresh instances (" + nOther + " others) are drawn " + (Math.round(instH * 100) / 100) + " px per row; hover picks the instance under the cursor."
      : "";
  })();

  // ---- tooltips ---------------------------------------------------------------------------
  function rowAt(py) {
    var lo = 0, hi = rows.length - 1;
    while (lo <= hi) {
      var m = (lo + hi) >> 1, r = rows[m];
      if (py < r.y) hi = m - 1; else if (py >= r.y + r.h) lo = m + 1; else return r;
    }
    return null;
  }
  function stTable(head, list) {
    return "<table><tr>" + head.map(function (h) { return "<th>" + esc(h) + "</th>"; }).join("") + "</tr>" +
      list.map(function (cells) { return "<tr>" + cells.map(function (c) { return "<td>" + esc(c) + "</td>"; }).join("") + "</tr>"; }).join("") + "</table>";
  }
  function tipFor(r) {
    if (r.kind === "a") {
      var a = D.activities[r.idx], last = a.st[a.st.length - 1];
      return { kind: "activity", status: last ? last[2] : "INIT", html:
        "<b>" + esc(a.id) + "</b> " + esc(a.type) + " " + esc(a.mode) + " · status <b data-status>" + esc(last ? last[2] : "INIT") + "</b><br>" +
        a.instances + " instances · created " + esc(when(a.created)) + (a.origin ? " · rollback of " + esc(a.origin) : "") +
        stTable(["time (UTC)", "rel", "from → to", "cause"], a.st.map(function (s) { return [utc(s[0]), "+" + dur(s[0]), s[1] + " → " + s[2], s[3]]; })) +
        (a.ph.length ? "phases: " + esc(a.ph.map(function (p) { return p[1] + " +" + dur(p[0]); }).join(", ")) : "") };
    }
    if (r.kind === "b") {
      var b = D.batches[r.idx], bl = b.st[b.st.length - 1];
      return { kind: "batch", status: bl ? bl[2] : "", html:
        "<b>" + esc(D.activities[b.a].id) + " batch " + b.n + "</b> · RefreshBatchStatus <b data-status>" + esc(bl ? bl[2] : "") + "</b><br>" +
        b.size + " instances · ended with failures " + b.failed + "× · retried " + b.retries + "×" +
        stTable(["time (UTC)", "rel", "from → to"], b.st.map(function (s) { return [utc(s[0]), "+" + dur(s[0]), (s[1] || "·") + " → " + s[2]]; })) };
    }
    if (r.kind === "i") {
      var it = D.instances[r.idx], il = it.st[it.st.length - 1];
      return { kind: "instance", status: il ? il[2] : "", html:
        "<b>" + esc(it.id) + "</b> · " + esc(D.activities[it.a] ? D.activities[it.a].id : "") + " batch " + (D.batches[it.b] ? D.batches[it.b].n : "?") +
        " · InstanceStatus <b data-status>" + esc(il ? il[2] : "") + "</b>" +
        stTable(["time (UTC)", "rel", "from → to", "message", "LastActivityId"], it.st.map(function (s) { return [utc(s[0]), "+" + dur(s[0]), (s[1] || "·") + " → " + s[2], s[3], s[4] || ""]; })) +
        (it.ph.length ? stTable(["phase", "from", "duration"], it.ph.map(function (p) { return [D.phase_kinds[p[2]], "+" + dur(p[0]), dur(p[1] - p[0])]; })) : "") +
        (it.skipped.length ? "skipped (ResumeMode CONTINUE) at +" + it.skipped.map(dur).join(", +") : "") };
    }
    if (r.kind === "o") {
      var o = D.others[r.idx];
      return { kind: "other", status: "", html: "<b>" + esc(o.id) + "</b>" + (o.surge ? " (surge / new instance)" : "") +
        "<br>joined " + (o.joined == null ? "—" : esc(when(o.joined))) + " · left " + (o.left == null ? "—" : esc(when(o.left))) +
        (o.ph.length ? stTable(["phase", "from", "duration"], o.ph.map(function (p) { return [D.phase_kinds[p[2]], "+" + dur(p[0]), dur(p[1] - p[0])]; })) : "") };
    }
    return null;
  }
  function showTip(info, ev) {
    if (!info) { tip.hidden = true; return; }
    tip.innerHTML = info.html;
    tip.dataset.kind = info.kind;
    tip.dataset.status = info.status;
    tip.hidden = false;
    var px = ev.clientX + 14, py = ev.clientY + 14;
    var rect = tip.getBoundingClientRect();
    if (px + rect.width > window.innerWidth) px = Math.max(0, ev.clientX - rect.width - 14);
    if (py + rect.height > window.innerHeight) py = Math.max(0, ev.clientY - rect.height - 14);
    tip.style.left = px + "px"; tip.style.top = py + "px";
  }

  // ---- interaction ------------------------------------------------------------------------
  function clampView() {
    var span = Math.min(Math.max(view.t1 - view.t0, 50), END * 1.2 + 1);
    var pad = END * 0.1;
    if (view.t0 < -pad) view.t0 = -pad;
    view.t1 = view.t0 + span;
    if (view.t1 > END + pad) { view.t1 = END + pad; view.t0 = view.t1 - span; }
  }
  function zoom(factor, centre) {
    var c = centre == null ? (view.t0 + view.t1) / 2 : centre;
    view.t0 = c - (c - view.t0) * factor;
    view.t1 = c + (view.t1 - c) * factor;
    clampView(); draw();
  }
  function pan(fraction) {
    var d = (view.t1 - view.t0) * fraction;
    view.t0 += d; view.t1 += d; clampView(); draw();
  }
  var drag = null;
  [gantt, cap].forEach(function (canvas) {
    canvas.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var rect = canvas.getBoundingClientRect(), px = ev.clientX - rect.left;
      zoom(ev.deltaY < 0 ? 1 / 1.25 : 1.25, px > L ? tAt(px) : null);
    }, { passive: false });
    canvas.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, t0: view.t0, t1: view.t1 }; tip.hidden = true; });
    canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
    canvas.addEventListener("mousemove", function (ev) {
      var rect = canvas.getBoundingClientRect(), px = ev.clientX - rect.left, py = ev.clientY - rect.top;
      if (drag && ev.buttons) {
        var dt = (ev.clientX - drag.x) / (W - L - R) * (drag.t1 - drag.t0);
        view.t0 = drag.t0 - dt; view.t1 = drag.t1 - dt; clampView(); draw();
        return;
      }
      drag = null;
      if (canvas === gantt) {
        var r = rowAt(py);
        showTip(r ? tipFor(r) : null, ev);
      } else {
        var t = Math.max(0, Math.min(END, tAt(px)));
        showTip(px >= L ? { kind: "capacity", status: "", html: "<b>" + countAt(t) + "</b> in service at " + esc(when(Math.round(t))) +
          (threshold != null ? "<br>threshold " + (Math.round(threshold * 10) / 10) : "") } : null, ev);
      }
    });
  });
  window.addEventListener("mouseup", function () { drag = null; });
  document.getElementById("zoom-in").onclick = function () { zoom(1 / 1.5); };
  document.getElementById("zoom-out").onclick = function () { zoom(1.5); };
  document.getElementById("pan-left").onclick = function () { pan(-0.25); };
  document.getElementById("pan-right").onclick = function () { pan(0.25); };
  document.getElementById("zoom-reset").onclick = function () { view.t0 = 0; view.t1 = END; draw(); };
  var capBtn = document.getElementById("cap-y");
  function capLabel() { capBtn.textContent = capZoom ? "Capacity axis: from 0" : "Capacity axis: zoom on the dip"; }
  capBtn.onclick = function () { capZoom = !capZoom; capLabel(); drawCapacity(); };
  capLabel();
  gantt.addEventListener("dblclick", function () { view.t0 = 0; view.t1 = END; draw(); });
  var resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 100); });
  window.addEventListener("beforeprint", draw);

  draw();

  // For tests and for people: where a row's bar is on screen, in client coordinates.
  window.refreshsimReport = {
    rows: rows.length,
    dense: dense,
    drawnAt: performance.now(),
    xOf: function (t) { return gantt.getBoundingClientRect().left + x(t); },
    locate: function (kind, idx) {
      var r = rows.filter(function (r) { return r.kind === kind && r.idx === idx; })[0];
      if (!r) return null;
      var spanS = 0, spanE = END;
      if (kind === "b") {
        var st = D.batches[idx].st.filter(function (s) { return s[2] !== "WAITING"; });
        if (st.length) { spanS = st[0][0]; spanE = Math.max(st[st.length - 1][0], spanS); }
      }
      var rect = gantt.getBoundingClientRect();
      var px = Math.max(L + 1, Math.min(W - R - 1, (x(spanS) + x(spanE)) / 2));
      return { x: rect.left + px, y: rect.top + r.y + r.h / 2 };
    }
  };
  document.body.dataset.ready = "1";
})();
