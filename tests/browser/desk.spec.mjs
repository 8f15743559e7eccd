// Drives the review desk of a running `erpsync run` in headless Chromium, as an MDM
// contact, an approver, a collector and a viewer would use it. Started by tests/desk_browser.rs, which
// passes the desk's URL, the users' passwords and where to put screenshots and the export.
// Prints one JSON line with what it did; exits 1 with the reason on the first failure.

import { chromium } from "playwright-core";
import path from "node:path";
import fs from "node:fs";
import { need, check, executablePath } from "./common.mjs";

const base = need("DESK_URL");
const out = need("DESK_OUT");
const users = JSON.parse(need("DESK_USERS")); // {mdm: [name, pw], approver, viewer, collector}

// An amount as the desk writes it for an English reader: "256,090.48 EUR".
function money(amount, currency) {
  const [int, frac = ""] = String(amount).replace("-", "").split(".");
  const sign = String(amount).startsWith("-") && Number(amount) !== 0 ? "-" : "";
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = (frac + "00").slice(0, 2);
  return `${sign}${grouped}.${cents} ${currency}`;
}

// The flag's page says what the API says: sentence, both headlines, the change, the money.
async function checkFlagPage(page, id) {
  await page.goto(`${base}/flags/${id}`);
  const api = await page.evaluate(async (id) => (await (await fetch(`/api/v1/discrepancies/${id}`)).json()), id);
  const w = api.wording;
  const rule = api.flag.rule;
  check((await page.textContent("#sentence")).trim() === w.sentence, `${rule}: the page states the flag's sentence`);
  check(!w.sentence.includes(rule), `${rule}: the sentence uses plain words, not the rule's name (${w.sentence})`);
  check((await page.textContent("#contract-side .value")).trim() === w.left.value, `${rule}: the left headline is ${w.left.value}`);
  check((await page.textContent("#master-side .value")).trim() === w.right.value, `${rule}: the right headline is ${w.right.value}`);
  if (w.proposal) {
    check((await page.textContent("#proposal-text")).trim() === w.proposal.text, `${rule}: the change to make is proposed`);
  } else {
    check((await page.$("#proposal-text")) === null, `${rule}: no change is proposed where none exists`);
  }
  const concerned = (await page.textContent("#concerned")).trim();
  const t = api.affected_total;
  if (t.items === 0) {
    check(concerned.includes("no open receivables"), `${rule}: no open items concerned (${concerned})`);
  } else {
    for (const c of t.by_currency.length ? t.by_currency : [{ amount: t.amount, currency: t.currency }]) {
      check(concerned.includes(money(c.amount, c.currency)), `${rule}: ${money(c.amount, c.currency)} concerned (${concerned})`);
    }
  }
  return rule;
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
  check((await page.getAttribute("#status-tabs a[data-status=open]", "aria-current")) === "page", "the MDM contact lands on the open flags");
  const firstCustomer = (await page.textContent("#queue tr.flag a.customer-link")).trim();
  await page.fill("#f-q", firstCustomer);
  await Promise.all([page.waitForURL(/q=/), page.click("#apply")]);
  const customers = await page.$$eval("#queue tr.flag a.customer-link", (as) => as.map((a) => a.textContent.trim()));
  check(customers.length > 0 && customers.every((c) => c === firstCustomer), `search narrows the queue to ${firstCustomer}: ${customers}`);
  // Filter by severity through the select: choosing does not reload (WCAG 3.2.2), Filter does.
  const severity = (await page.textContent("#queue tr.flag td:nth-child(3)")).trim();
  await page.selectOption("#f-severity", severity);
  check(!page.url().includes(`severity=${severity}`), "choosing in a select does not reload the page");
  await Promise.all([page.waitForURL(new RegExp(`severity=${severity}`)), page.click("#apply")]);
  const severities = await page.$$eval("#queue tr.flag td:nth-child(3)", (tds) => tds.map((t) => t.textContent.trim()));
  check(severities.every((s) => s === severity), `severity filter keeps only ${severity}: ${severities}`);

  // Open a flag.
  await Promise.all([page.waitForURL(/\/flags\/\d+/), page.click("#queue tr.flag a.flag-link")]);
  const flagId = Number(page.url().match(/\/flags\/(\d+)/)[1]);
  result.waived_id = flagId;
  await page.waitForSelector("#contract-side");
  await page.waitForSelector("#master-side");
  check((await page.textContent("#difference")).trim().length > 0, "the difference is explained");
  const api = await page.evaluate(async (id) => (await (await fetch(`/api/v1/discrepancies/${id}`)).json()), flagId);
  check((await page.textContent("#sentence")).trim() === api.wording.sentence, "the page states the flag's sentence");
  check((await page.textContent("#contract-side .value")).trim() === api.wording.left.value, "the left headline is the value compared");
  check((await page.textContent("#master-side .value")).trim() === api.wording.right.value, "the right headline is the value compared");
  check((await page.textContent("#proposal-text")).trim() === api.wording.proposal.text, "the change to make is proposed");
  check((await page.textContent("#concerned")).trim().length > 0, "the open items concerned are stated");
  check((await page.$$(".local-time")).length > 0, "times show the reader's local time beside UTC");
  check((await page.textContent("#back")).includes("Queue") && (await page.getAttribute("#back", "href")).includes("severity="), "← Queue keeps the filter");
  await page.screenshot({ path: path.join(out, "detail.png"), fullPage: true });

  // A refused waiver (past date) keeps the reason typed.
  const reason = "Agreed exception with sales / 与销售确认的例外";
  await page.fill("#waive-note", reason);
  await page.fill("#waive-until", "2001-01-01");
  // The browser's own check would stop a date below `min`; the server's answer is what is tested.
  await page.$eval("#waive-until", (el) => el.removeAttribute("min"));
  await Promise.all([page.waitForLoadState(), page.click("#do-waive")]);
  await page.waitForSelector("#error[role=alert]");
  check((await page.inputValue("#waive-note")) === reason, "a refused waiver keeps the reason");
  check((await page.inputValue("#waive-until")) === "2001-01-01", "a refused waiver keeps the date");
  await page.screenshot({ path: path.join(out, "refused-kept.png"), fullPage: true });

  // Waive it: reason and expiry (within the configured maximum).
  const until = new Date(Date.now() + 60 * 86400000).toISOString().slice(0, 10);
  result.waived_until = until;
  await page.fill("#waive-until", until);
  await Promise.all([page.waitForURL(/done=waive/), page.click("#do-waive")]);
  check((await page.textContent("#done")).includes("Waiver proposed"), "the waiver is proposed");
  check((await page.textContent("#status")).includes("awaiting approval"), "the flag awaits approval");
  check((await page.$("#do-approve")) === null, "the proposer is offered no approval");

  // ---- a second person approves
  const approver = await signIn(browser, users.approver);
  const ap = approver.page;
  // The approver lands on the waivers awaiting them, with the proposer's reason beside approve.
  check((await ap.getAttribute("#view-approvals", "aria-current")) === "page", "the approver lands on their inbox");
  check((await ap.$$eval("#queue tr.flag", (trs) => trs.map((t) => Number(t.dataset.id)))).includes(flagId), "the proposed waiver awaits the approver");
  await ap.screenshot({ path: path.join(out, "approver-inbox.png"), fullPage: true });
  await ap.goto(`${base}/flags/${flagId}`);
  check((await ap.textContent("#waiver-reason")).includes("与销售确认的例外"), "the proposer's reason is shown beside approve");
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
  const otherHref = await page.getAttribute("#queue tr.flag a.flag-link", "href");
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
  check((await vp.getAttribute("#status-tabs a[data-status=open]", "aria-current")) === "page", "the viewer lands on the open flags");
  check((await vp.$("#view-mine")) === null && (await vp.$("#view-approvals")) === null, "the viewer has no work views");
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

  // ---- previous/next within the filter
  await page.goto(`${base}/?status=open`);
  await Promise.all([page.waitForURL(/\/flags\/\d+/), page.click("#queue tr.flag a.flag-link")]);
  const firstId = Number(page.url().match(/\/flags\/(\d+)/)[1]);
  await Promise.all([page.waitForURL(/\/flags\/\d+/), page.click("#next-flag")]);
  const secondId = Number(page.url().match(/\/flags\/(\d+)/)[1]);
  check(secondId !== firstId, "next flag moves on within the filter");
  await Promise.all([page.waitForURL(new RegExp(`/flags/${firstId}`)), page.click("#prev-flag")]);

  // ---- a flag of every rule: headline values, sentence, proposed change and money on the page
  const everything = await page.evaluate(async () => (await (await fetch("/api/v1/discrepancies?limit=500")).json()).items);
  const oneOfEach = new Map();
  for (const f of everything) if (!oneOfEach.has(f.rule)) oneOfEach.set(f.rule, f.id);
  result.rules_checked = [];
  for (const [, id] of oneOfEach) result.rules_checked.push(await checkFlagPage(page, id));

  // ---- a waiver returned: the approver sends it back with a reason, the flag is open again
  await page.goto(`${base}/flags/${secondId}`);
  const returnedUntil = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
  await page.fill("#waive-note", "customer asked for a grace period");
  await page.fill("#waive-until", returnedUntil);
  await Promise.all([page.waitForURL(/done=waive/), page.click("#do-waive")]);
  await ap.goto(`${base}/flags/${secondId}`);
  check((await ap.textContent("#waiver-reason")).includes("grace period"), "the approver reads the reason before returning it");
  await ap.fill("#reject-note", "no grace period without a signed amendment");
  await Promise.all([ap.waitForURL(/done=reject/), ap.click("#do-reject")]);
  check((await ap.textContent("#done")).includes("returned"), "the waiver is returned to its proposer");
  check((await flagStatus(ap, secondId)) === "open", "a returned waiver leaves the flag open");
  result.returned_id = secondId;
  await page.goto(`${base}/flags/${secondId}`);
  const history = await page.$$eval("#audit tr.audit-entry", (trs) => trs.map((t) => t.textContent));
  check(history.some((a) => a.includes("signed amendment")), "the proposer sees why it came back");

  // ---- the customer page: flags, contracts, master levels, notes with their way to SAP
  await page.goto(`${base}/flags/${otherId}`);
  const customerNo = (await page.textContent("#customer-link")).trim();
  await Promise.all([page.waitForURL(new RegExp(`/customers/${customerNo}$`)), page.click("#customer-link")]);
  await page.waitForSelector("#customer-flags");
  const listed = await page.$$eval("#customer-flags tr.flag", (trs) => trs.map((t) => Number(t.dataset.id)));
  check(listed.includes(otherId), `the customer page lists the flag it came from (${listed})`);
  await page.waitForSelector("#customer-master #company-codes");
  check(!(await page.content()).includes(".csv"), "no register file path is shown");
  check((await page.getAttribute("#ar-link", "href")) === `/ar/customers/${customerNo}`, "the collections view is one click away");
  const noteText = "Rang AP: invoice approved, paying Friday / 已确认付款";
  await page.fill("#note-text", noteText);
  await Promise.all([page.waitForURL(/done=note/), page.click("#add-note")]);
  const queued = await page.$$eval("#notes li.note", (lis) => lis.map((l) => [l.dataset.status, l.textContent]));
  check(queued.some(([st, t]) => st === "queued" && t.includes("已确认付款")), `the new note shows as queued: ${queued}`);
  // The service's outbox job (every 2 s here) sends it to the mock SAP.
  let sent = false;
  for (let i = 0; i < 60 && !sent; i++) {
    await page.waitForTimeout(500);
    await page.reload();
    sent = await page.$$eval("#notes li.note", (lis, t) => lis.some((l) => l.dataset.status === "sent" && l.textContent.includes(t)), noteText);
  }
  check(sent, "the note's sent status is shown once the outbox sent it");
  result.note_customer = customerNo;
  await page.screenshot({ path: path.join(out, "customer.png"), fullPage: true });

  // ---- a note for a customer the master does not have is refused, its text kept
  await page.goto(`${base}/flags/${otherId}`);
  await page.$eval("#note form input[name=customer]", (el) => { el.value = "9999999"; });
  await page.fill("#note-text", "called about the missing customer");
  await Promise.all([page.waitForLoadState(), page.click("#add-note")]);
  await page.waitForSelector("#error[role=alert]");
  check((await page.textContent("#error")).includes("not in the master"), "the unknown customer is named as the reason");
  check((await page.inputValue("#note-text")) === "called about the missing customer", "the refused note's text is kept");

  // ---- each role's landing view: the collector lands on their customers' flags
  const collector = await signIn(browser, users.collector);
  const cp = collector.page;
  check((await cp.getAttribute("#view-customers", "aria-current")) === "page", "the collector lands on their customers");
  await cp.screenshot({ path: path.join(out, "collector-landing.png"), fullPage: true });
  result.collector_customers = await cp.$$eval("#queue tr.flag a.customer-link", (as) => [...new Set(as.map((a) => a.textContent.trim()))]);

  // ---- keyboard: the skip link comes first and shows a focus ring
  await page.goto(`${base}/`);
  await page.keyboard.press("Tab");
  check((await page.evaluate(() => document.activeElement.className)) === "skip", "the first tab stop is the skip link");
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check(ring !== "none", `the focused link shows a ring (${ring})`);

  // ---- the README's pictures: what an MDM contact sees, small enough to keep in the repository
  const shots = [["readme-queue.jpg", "/"], ["readme-flag.jpg", `/flags/${otherId}`], ["readme-customer.jpg", `/customers/${customerNo}`]];
  for (const [file, where] of shots) {
    await page.goto(`${base}${where}`);
    await page.screenshot({ path: path.join(out, file), type: "jpeg", quality: 60 });
  }

  // ---- a phone: nothing makes the page body scroll sideways
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const pp = await phone.newPage();
  await pp.goto(`${base}/login`);
  await pp.fill("#user", users.mdm[0]);
  await pp.fill("#password", users.mdm[1]);
  await Promise.all([pp.waitForURL(`${base}/`), pp.click("#sign-in")]);
  for (const [where, shot] of [["/", "phone-queue.png"], [`/flags/${otherId}`, "phone-flag.png"], [`/customers/${customerNo}`, "phone-customer.png"]]) {
    await pp.goto(`${base}${where}`);
    const [scroll, client] = await pp.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    check(scroll <= client, `no sideways scrolling on a phone at ${where} (${scroll} > ${client})`);
    await pp.screenshot({ path: path.join(out, shot), fullPage: true });
  }
  await pp.goto(`${base}/`);
  await pp.screenshot({ path: path.join(out, "readme-phone-queue.jpg"), type: "jpeg", quality: 60 });

  // ---- accessibility: axe-core finds nothing serious or critical on the desk's pages
  // (its script is injected, so this one context does without the CSP the desk sends).
  const axeSource = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), "node_modules/axe-core/axe.min.js"), "utf8");
  const axeContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1366, height: 900 } });
  const aq = await axeContext.newPage();
  const axeOn = async (where) => {
    await aq.addScriptTag({ content: axeSource });
    const found = await aq.evaluate(async () => {
      const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "best-practice"] } });
      return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    });
    check(found.length === 0, `no serious or critical accessibility violations on ${where}: ${found.join("; ")}`);
  };
  await aq.goto(`${base}/login`);
  await axeOn("the login page");
  await aq.fill("#user", users.mdm[0]);
  await aq.fill("#password", users.mdm[1]);
  await Promise.all([aq.waitForURL(`${base}/`), aq.click("#sign-in")]);
  await axeOn("the queue");
  await aq.goto(`${base}/flags/${otherId}`);
  await axeOn("a flag");
  await aq.goto(`${base}/customers/${customerNo}`);
  await axeOn("a customer");
  await axeContext.close();

  result.ok = true;
  console.log(JSON.stringify(result));
} catch (e) {
  console.error(`desk browser test failed: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
