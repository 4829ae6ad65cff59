// Opens refreshsim's report.html files in headless Chromium (Debian's package, driven by
// playwright-core) with the network cut off, and checks what a reader would: no console or page
// errors, the Gantt and the capacity chart draw (non-blank pixels in screenshots of their
// regions), hovering each batch shows a tooltip with that batch's status from summary.json,
// zoom/pan/axis buttons redraw, the sweep and advise tables sort and filter, advise's answer
// shows as advice.json has it, and the 2,000-instance report loads quickly (the time is printed).
//
//   node tests/browser/check.mjs OUT_DIR   (run.sh writes OUT_DIR/{doc,large,sweep,advise})
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const out = resolve(process.argv[2] || "target/browser");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const LOAD_LIMIT_MS = Number(process.env.REPORT_LOAD_LIMIT_MS || 5000);
let failures = 0;
function check(ok, what) {
  if (ok) console.log("ok   " + what);
  else { failures++; console.log("FAIL " + what); }
}

function blobOf(html) {
  const open = '<script type="application/json" id="report-data">';
  const start = html.indexOf(open) + open.length;
  return JSON.parse(html.slice(start, html.indexOf("</script>", start)));
}

const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, offline: true });
const foreign = [];
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (url.startsWith("file:")) return route.continue();
  foreign.push(url);
  return route.abort();
});
// A page without the report's CSP, to decode screenshots.
const scratch = await context.newPage();
await scratch.setContent("<canvas id=c></canvas>");

/** Share of pixels of a PNG that are not (near) white, and how many distinct colours. */
async function inkOf(png) {
  return scratch.evaluate(async (b64) => {
    const img = new Image();
    img.src = "data:image/png;base64," + b64;
    await img.decode();
    const c = document.getElementById("c");
    c.width = img.width; c.height = img.height;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, img.width, img.height).data;
    let ink = 0; const colours = new Set();
    for (let i = 0; i < px.length; i += 4) {
      if (px[i] < 240 || px[i + 1] < 240 || px[i + 2] < 240) ink++;
      if (colours.size < 64) colours.add((px[i] >> 4) + "," + (px[i + 1] >> 4) + "," + (px[i + 2] >> 4));
    }
    return { share: ink / (px.length / 4), colours: colours.size };
  }, png.toString("base64"));
}

async function open(file) {
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
  page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
  const started = Date.now();
  await page.goto(pathToFileURL(file).href, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("body[data-ready='1']", { timeout: 30000 });
  const wall = Date.now() - started;
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { dcl: nav.domContentLoadedEventEnd, drawn: window.refreshsimReport.drawnAt };
  });
  return { page, errors, wall, timing };
}

async function checkRun(name, dir) {
  const html = readFileSync(join(dir, "report.html"), "utf8");
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
  const data = blobOf(html);
  const { page, errors, wall, timing } = await open(join(dir, "report.html"));
  const loaded = Math.max(timing.dcl, timing.drawn);
  console.log(`time ${name}: ${data.instances.length} refresh instances, charts drawn ${timing.drawn.toFixed(0)} ms after navigation start, DOMContentLoaded done ${timing.dcl.toFixed(0)} ms, ready seen after ${wall} ms (wall clock)`);
  check(loaded < LOAD_LIMIT_MS, `${name}: loaded and drawn in ${loaded.toFixed(0)} ms (< ${LOAD_LIMIT_MS} ms)`);

  const gantt = await inkOf(await page.locator("#gantt").screenshot());
  const capacity = await inkOf(await page.locator("#capacity").screenshot());
  check(gantt.share > 0.02 && gantt.colours >= 4, `${name}: Gantt region has ink (${(gantt.share * 100).toFixed(1)} % of pixels, ${gantt.colours} colours)`);
  check(capacity.share > 0.01 && capacity.colours >= 3, `${name}: capacity region has ink (${(capacity.share * 100).toFixed(1)} % of pixels, ${capacity.colours} colours)`);

  // Every batch: hover it, the tooltip names its status as summary.json does.
  let hovered = 0, right = 0;
  for (const act of summary.activities) {
    for (const b of act.batches) {
      const i = data.batches.findIndex((x) => data.activities[x.a].id === act.RefreshActivityId && x.n === b.RefreshBatchNum);
      const at = await page.evaluate((i) => window.refreshsimReport.locate("b", i), i);
      if (!at) continue;
      await page.evaluate((y) => window.scrollTo(0, Math.max(0, window.scrollY + y - 400)), at.y);
      const again = await page.evaluate((i) => window.refreshsimReport.locate("b", i), i);
      await page.mouse.move(again.x, again.y);
      const tip = await page.evaluate(() => {
        const t = document.getElementById("tip");
        const s = t.querySelector("[data-status]");
        return { hidden: t.hidden, kind: t.dataset.kind, status: s && s.textContent, text: t.textContent };
      });
      hovered++;
      if (!tip.hidden && tip.kind === "batch" && tip.status === b.RefreshBatchStatus &&
          tip.text.includes(act.RefreshActivityId + " batch " + b.RefreshBatchNum)) right++;
      else console.log("     batch " + act.RefreshActivityId + "/" + b.RefreshBatchNum + " expected " + b.RefreshBatchStatus + ", tooltip: " + JSON.stringify(tip).slice(0, 300));
    }
  }
  check(hovered > 0 && right === hovered, `${name}: hovering each of ${hovered} batches shows its RefreshBatchStatus (${right} right)`);

  // An instance: its tooltip carries the last status, message and LastActivityId. In the
  // density view a row is a fraction of a pixel, so the instance under the pointer is read back
  // from the tooltip and checked against the data.
  const k = Math.floor(data.instances.length / 2);
  const at = await page.evaluate((k) => window.refreshsimReport.locate("i", k), k);
  await page.evaluate((y) => window.scrollTo(0, Math.max(0, window.scrollY + y - 400)), at.y);
  const at2 = await page.evaluate((k) => window.refreshsimReport.locate("i", k), k);
  await page.mouse.move(at2.x, at2.y);
  const itip = await page.evaluate(() => {
    const t = document.getElementById("tip");
    return { kind: t.dataset.kind, id: t.querySelector("b") && t.querySelector("b").textContent, status: t.dataset.status, text: t.textContent };
  });
  const ins = data.instances.find((x) => x.id === itip.id);
  const last = ins && ins.st[ins.st.length - 1];
  check(itip.kind === "instance" && ins && itip.status === last[2] && itip.text.includes(last[3]) && (!last[4] || itip.text.includes(last[4])),
    `${name}: hovering instance ${itip.id} shows InstanceStatus ${last && last[2]}, message "${last && last[3]}" and LastActivityId ${last && last[4]}`);

  // Zoom, pan and the capacity axis redraw the charts.
  const before = await page.locator("#gantt").screenshot();
  await page.click("#zoom-in");
  await page.click("#pan-right");
  const after = await page.locator("#gantt").screenshot();
  check(!before.equals(after), `${name}: zoom and pan redraw the Gantt`);
  const cap0 = await page.locator("#capacity").screenshot();
  await page.click("#cap-y");
  const cap1 = await page.locator("#capacity").screenshot();
  check(!cap0.equals(cap1), `${name}: the capacity axis button redraws the curve`);
  const box = await page.locator("#gantt").boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + 20);
  await page.mouse.wheel(0, -400);
  await page.mouse.down(); await page.mouse.move(box.x + box.width * 0.4, box.y + 20); await page.mouse.up();
  await page.click("#zoom-reset");
  check(errors.length === 0, `${name}: no console or page errors` + (errors.length ? ": " + errors.join(" | ") : ""));
  await page.close();
}

async function checkSweep(dir) {
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
  const data = blobOf(readFileSync(join(dir, "report.html"), "utf8"));
  const { page, errors, timing } = await open(join(dir, "report.html"));
  console.log(`time sweep: ${summary.variants.length} variants, drawn ${timing.drawn.toFixed(0)} ms after navigation start`);
  const rowsShown = () => page.$$eval("#variant-table tbody tr", (trs) => trs.map((tr) => Number(tr.dataset.variant)));
  check((await rowsShown()).length === summary.variants.length, "sweep: one row per variant");
  check((await page.locator("figure.svg svg").count()) >= 1, "sweep: the charts are inline SVG");
  const p50 = (v) => summary.variants[v].metrics.duration_s.p50;
  await page.click("#variant-table thead th[data-key='duration_p50']");
  let order = await rowsShown();
  check(order.every((v, i) => i === 0 || p50(order[i - 1]) <= p50(v)), "sweep: sorting by duration p50 ascending");
  await page.click("#variant-table thead th[data-key='duration_p50']");
  order = await rowsShown();
  check(order.every((v, i) => i === 0 || p50(order[i - 1]) >= p50(v)), "sweep: clicking again sorts descending");
  // Filter on p90 duration at the median variant's p90: exactly those at or under it remain.
  const p90s = summary.variants.map((v) => v.metrics.duration_s.p90).sort((a, b) => a - b);
  const limit = p90s[Math.floor(p90s.length / 2)];
  await page.fill("#f-p90", String(limit));
  const expected = summary.variants.filter((v) => v.metrics.duration_s.p90 <= limit).map((v) => v.variant).sort((a, b) => a - b);
  check(JSON.stringify((await rowsShown()).sort((a, b) => a - b)) === JSON.stringify(expected), `sweep: filter p90 ≤ ${limit} s leaves variants ${expected.join(",")}`);
  await page.click("#f-clear");
  const floor = summary.floor;
  await page.fill("#f-floor", String(floor));
  const meets = summary.variants.filter((v) => v.metrics.min_in_service_fraction.min + 1e-12 >= floor).map((v) => v.variant).sort((a, b) => a - b);
  check(JSON.stringify((await rowsShown()).sort((a, b) => a - b)) === JSON.stringify(meets), `sweep: filter worst capacity ≥ ${floor} leaves variants ${meets.join(",")}`);
  await page.click("#f-clear");
  const frontier = await page.$$eval("#variant-table tbody tr.frontier", (trs) => trs.map((tr) => Number(tr.dataset.variant)));
  check(frontier.every((v) => meets.includes(v)) && (meets.length === 0 || frontier.length > 0),
    `sweep: the trade-off frontier (${frontier.join(",")}) is among the variants that meet the floor (${meets.join(",")})`);
  // One frontier: the table's, the data's (sweep::tradeoff) and tradeoff.svg's key (◆) agree.
  const svgFrontier = await page.$$eval("figure[data-file='tradeoff.svg'] text", (ts) =>
    ts.map((t) => t.textContent).filter((x) => /^\d+ ◆$/.test(x)).map((x) => parseInt(x, 10)));
  const sorted = (a) => JSON.stringify(a.slice().sort((x, y) => x - y));
  check(sorted(frontier) === sorted(data.tradeoff.frontier) && sorted(svgFrontier) === sorted(frontier),
    `sweep: the table's frontier (${frontier.join(",")}) is tradeoff.svg's (${svgFrontier.join(",")})`);
  const trade = await inkOf(await page.locator("#tradeoff").screenshot());
  check(trade.share > 0.005, "sweep: the trade-off chart draws");
  check(errors.length === 0, "sweep: no console or page errors" + (errors.length ? ": " + errors.join(" | ") : ""));
  await page.close();
}

async function checkAdvise(dir) {
  const advice = JSON.parse(readFileSync(join(dir, "advice.json"), "utf8"));
  const data = blobOf(readFileSync(join(dir, "report.html"), "utf8"));
  const { page, errors, timing } = await open(join(dir, "report.html"));
  console.log(`time advise: ${data.candidates.length} candidates, drawn ${timing.drawn.toFixed(0)} ms after navigation start`);
  const rowsShown = () => page.$$eval("#candidate-table tbody tr", (trs) => trs.map((tr) => Number(tr.dataset.candidate)));
  check((await rowsShown()).length === data.candidates.length && data.candidates.length > 1, `advise: one row per candidate (${data.candidates.length})`);
  // The answer as advice.json has it, in plain HTML.
  const answer = await page.$eval("#answer", (h) => ({ feasible: h.dataset.feasible, text: h.textContent }));
  check(answer.feasible === String(advice.feasible) && answer.text.includes(advice.binding_constraint || ""),
    `advise: the answer says feasible=${advice.feasible}, binding constraint ${advice.binding_constraint}`);
  const shown = advice.recommended || advice.closest;
  const cells = await page.$$eval("#recommended-table tr", (trs) => Object.fromEntries(trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent])));
  check(Object.entries(shown.settings).every(([k, v]) => cells[k] === String(v)), `advise: the recommended settings table shows ${JSON.stringify(shown.settings)}`);
  const rec = data.candidates.find((c) => c.recommended);
  const recRow = await page.$$eval("#candidate-table tbody tr", (trs) => trs.filter((tr) => tr.textContent.includes("★")).map((tr) => Number(tr.dataset.candidate)));
  check(advice.feasible ? recRow.length === 1 && rec && recRow[0] === rec.id : recRow.length === 0, `advise: the recommended candidate is starred in the table (${recRow.join(",")})`);
  const p90 = (id) => data.candidates.find((c) => c.id === id).duration_s.p90;
  await page.click("#candidate-table thead th[data-key='duration_p90']");
  const order = (await rowsShown()).filter((id) => p90(id) != null);
  check(order.every((v, i) => i === 0 || p90(order[i - 1]) <= p90(v)), "advise: sorting by p90 duration ascending");
  await page.check("#f-feasible");
  const feasible = data.candidates.filter((c) => c.feasible).map((c) => c.id).sort((a, b) => a - b);
  check(JSON.stringify((await rowsShown()).sort((a, b) => a - b)) === JSON.stringify(feasible), `advise: the feasible filter leaves candidates ${feasible.join(",")}`);
  await page.click("#f-clear");
  const pareto = await page.$$eval("#candidate-table tbody tr.frontier", (trs) => trs.map((tr) => Number(tr.dataset.candidate)));
  check(pareto.length === advice.pareto.length && pareto.every((id) => feasible.includes(id)), `advise: the Pareto rows (${pareto.join(",")}) are advice.json's ${advice.pareto.length}, all feasible`);
  const trade = await inkOf(await page.locator("#tradeoff").screenshot());
  check(trade.share > 0.005, `advise: the trade-off chart draws (${(trade.share * 100).toFixed(1)} % ink)`);
  check((await page.locator("figure.svg svg").count()) === 1, "advise: advice.svg is inline");
  check(errors.length === 0, "advise: no console or page errors" + (errors.length ? ": " + errors.join(" | ") : ""));
  await page.close();
}

await checkRun("tencent-documented-example", join(out, "doc"));
await checkRun("large-2000-probabilistic", join(out, "large"));
await checkSweep(join(out, "sweep"));
await checkAdvise(join(out, "advise"));
check(foreign.length === 0, "no request left file:// " + (foreign.length ? foreign.join(", ") : ""));
await browser.close();
if (failures) { console.log(failures + " browser check(s) failed"); process.exit(1); }
console.log("browser checks passed");
