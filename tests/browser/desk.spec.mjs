// Drives the review desk of a running `erpsync run` in headless Chromium, as an MDM
// contact, an approver and a viewer would use it. Started by tests/desk_browser.rs, which
// passes the desk's URL, the users' passwords and where to put screenshots and the export.
// Prints one JSON line with what it did; exits 1 with the reason on the first failure.

import { chromium } from "playwright-core";
import path from "node:path";
import fs from "node:fs";

const base = need("DESK_URL");
const out = need("DESK_OUT");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const users = JSON.parse(need("DESK_USERS")); // {mdm: [name, pw], approver: [...], viewer: [...]}

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function signIn(browser, [name, password]) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  check(page.url().endsWith("/login"), `an anonymous visit lands on the login page (at ${page.url()})`);
  await page.fill("#user", name);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(`${base}/`), page.click("#sign-in")]);
  await page.waitForSelector("#who");
  check((await page.textContent("#who")).includes(name), `${name} is shown as signed in`);
  return { context, page };
}

async function flagStatus(page, id) {
  return page.evaluate(async (id) => {
    const r = await fetch(`/api/v1/discrepancies/${id}`);
    return (await r.json()).flag.status;
  }, id);
}

const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
const result = {};
try {
  // ---- the MDM contact works the queue
  const mdm = await signIn(browser, users.mdm);
  let page = mdm.page;
  await page.waitForSelector("#queue tr.flag");
  const rows = await page.$$eval("#queue tr.flag", (trs) => trs.length);
  check(rows > 0, "the queue lists open flags");
  await page.screenshot({ path: path.join(out, "queue.png"), fullPage: true });

  // Filter: search for the customer of the first flag.
  const firstCustomer = (await page.textContent("#queue tr.flag td:nth-child(4) a")).trim();
  await page.fill("#f-q", firstCustomer);
  await Promise.all([page.waitForURL(/q=/), page.click("#apply")]);
  const customers = await page.$$eval("#queue tr.flag td:nth-child(4) a", (as) => as.map((a) => a.textContent.trim()));
  check(customers.length > 0 && customers.every((c) => c === firstCustomer), `search narrows the queue to ${firstCustomer}: ${customers}`);
  // Filter by severity through the select (applied on change by the page's script).
  const severity = (await page.textContent("#queue tr.flag td:nth-child(3)")).trim();
  await Promise.all([page.waitForURL(new RegExp(`severity=${severity}`)), page.selectOption("#f-severity", severity)]);
  await page.waitForLoadState();
  const severities = await page.$$eval("#queue tr.flag td:nth-child(3)", (tds) => tds.map((t) => t.textContent.trim()));
  check(severities.every((s) => s === severity), `severity filter keeps only ${severity}: ${severities}`);

  // Open a flag.
  await Promise.all([page.waitForURL(/\/flags\/\d+$/), page.click("#queue tr.flag td:nth-child(1) a")]);
  const flagId = Number(page.url().match(/\/flags\/(\d+)/)[1]);
  result.waived_id = flagId;
  await page.waitForSelector("#contract-side");
  await page.waitForSelector("#master-side");
  check((await page.textContent("#difference")).trim().length > 0, "the difference is explained");
  await page.screenshot({ path: path.join(out, "detail.png"), fullPage: true });

  // Waive it: reason and expiry.
  await page.fill("#waive-note", "Agreed exception with sales / 与销售确认的例外");
  await page.fill("#waive-until", "2099-12-31");
  await Promise.all([page.waitForURL(/done=waive/), page.click("#do-waive")]);
  check((await page.textContent("#done")).includes("Waiver proposed"), "the waiver is proposed");
  check((await page.textContent("#status")).includes("awaiting approval"), "the flag awaits approval");
  check((await page.$("#do-approve")) === null, "the proposer is offered no approval");

  // ---- a second person approves
  const approver = await signIn(browser, users.approver);
  const ap = approver.page;
  await ap.goto(`${base}/flags/${flagId}`);
  await ap.fill("#approve-note", "ok, checked the contract");
  await Promise.all([ap.waitForURL(/done=approve/), ap.click("#do-approve")]);
  check((await ap.textContent("#done")).includes("Waiver approved"), "the waiver is approved");
  const audit = await ap.$$eval("#audit tr.audit-entry", (trs) => trs.map((t) => t.textContent));
  check(audit.some((a) => a.includes(users.approver[0]) && a.includes("waiver approved")), `the audit shows the approval: ${audit}`);
  check(audit.some((a) => a.includes(users.mdm[0]) && a.includes("与销售确认的例外")), "the audit shows the waiver with its reason, Chinese intact");
  await ap.screenshot({ path: path.join(out, "detail-approved.png"), fullPage: true });

  // ---- the MDM contact sees the audit entry and exports the queue
  await page.goto(`${base}/flags/${flagId}`);
  const seen = await page.$$eval("#audit tr.audit-entry", (trs) => trs.map((t) => t.textContent));
  check(seen.some((a) => a.includes("waiver approved")), "the proposer sees the approval in the history");
  await page.goto(`${base}/?status=all`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-xlsx")]);
  const xlsx = path.join(out, "queue.xlsx");
  await download.saveAs(xlsx);
  check(fs.statSync(xlsx).size > 0, "the XLSX export downloads");

  // A flag nobody may touch in the tests below.
  await page.goto(`${base}/?status=open`);
  const otherHref = await page.getAttribute("#queue tr.flag td:nth-child(1) a", "href");
  const otherId = Number(otherHref.match(/\/flags\/(\d+)/)[1]);
  result.untouched_id = otherId;

  // ---- CSRF: a form with a wrong token is refused, and so is one from another site
  await page.goto(`${base}/flags/${otherId}`);
  const forged = await page.evaluate(async (id) => {
    const body = new URLSearchParams({ csrf: "forged", note: "" });
    const r = await fetch(`/flags/${id}/acknowledge`, { method: "POST", body });
    return r.status;
  }, otherId);
  check(forged === 403, `a form post with a wrong CSRF token is refused (got ${forged})`);
  const apiForged = await page.evaluate(async (id) => {
    const r = await fetch(`/api/v1/discrepancies/${id}/acknowledge`, {
      method: "POST", headers: { "content-type": "application/json" }, body: "{}",
    });
    return r.status;
  }, otherId);
  check(apiForged === 403, `an API post with the session but no CSRF token is refused (got ${apiForged})`);
  // Another site's page posting to the desk: the SameSite=Strict cookie is not sent along.
  const evil = await mdm.context.newPage();
  await evil.setContent(
    `<form id="f" method="post" action="${base}/flags/${otherId}/acknowledge">` +
      `<input name="csrf" value="x"><input name="note" value="forged"></form>`,
  );
  await Promise.all([evil.waitForNavigation(), evil.evaluate(() => document.getElementById("f").submit())]);
  check(evil.url().startsWith(`${base}/login`) || (await evil.content()).includes("CSRF"), `a cross-site post does not act (at ${evil.url()})`);
  check((await flagStatus(page, otherId)) === "open", "after the forged posts the flag is still open");

  // ---- a viewer reads but cannot act, on the page or through the API
  const viewer = await signIn(browser, users.viewer);
  const vp = viewer.page;
  await vp.goto(`${base}/flags/${otherId}`);
  await vp.waitForSelector("#no-actions");
  check((await vp.$("#do-acknowledge")) === null && (await vp.$("#do-waive")) === null, "the viewer is offered no actions");
  check((await vp.$("#add-note")) === null, "the viewer is offered no note form");
  const viewerTries = await vp.evaluate(async (id) => {
    const me = await (await fetch("/api/v1/me")).json();
    const api = await fetch(`/api/v1/discrepancies/${id}/acknowledge`, {
      method: "POST", headers: { "content-type": "application/json", "x-csrf-token": me.csrf_token }, body: "{}",
    });
    const form = await fetch(`/flags/${id}/acknowledge`, {
      method: "POST", body: new URLSearchParams({ csrf: me.csrf_token, note: "" }),
    });
    return [me.role, api.status, form.status];
  }, otherId);
  check(viewerTries[0] === "viewer", "the viewer's session says viewer");
  check(viewerTries[1] === 403, `the viewer's API action is refused (got ${viewerTries[1]})`);
  check(viewerTries[2] === 403, `the viewer's form action is refused (got ${viewerTries[2]})`);
  check((await flagStatus(vp, otherId)) === "open", "the flag the viewer tried is still open");

  result.ok = true;
  console.log(JSON.stringify(result));
} catch (e) {
  console.error(`desk browser test failed: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
