// Walks the collections workbench of a running desk in headless Chromium, as a collector
// would: the AR overview (KPIs, aging bars, trend lines), the call list, a customer page;
// logs a call with a Chinese note and a promise to pay; prints the statement of account to
// PDF in English and Chinese, and the customer page with the print stylesheet. Started by
// tests/ar_browser.rs, which passes the desk's URL, the collector's password, the customer
// and the as-of date, then pushes the outbox and checks what reached the ERP.
// Prints one JSON line with what it did; exits 1 with the reason on the first failure.

import { chromium } from "playwright-core";
import path from "node:path";
import fs from "node:fs";
import { need, check, executablePath } from "./common.mjs";
import { pdfText } from "./pdf-text.mjs";

const base = need("DESK_URL");
const out = need("DESK_OUT");
const [user, password] = JSON.parse(need("AR_USER"));
const customer = need("AR_CUSTOMER");
const asOf = need("AR_AS_OF");
const note = need("AR_NOTE");

// As the desk and the statements print amounts: thousands separated, two places.
function amount(s) {
  const [int, frac = ""] = s.replace(/^-/, "").split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${s.startsWith("-") ? "-" : ""}${grouped}.${frac.padEnd(2, "0").slice(0, 2)}`;
}

const squeeze = (s) => s.replace(/\s+/g, "");

const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
const result = {};
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(`${base}/login`);
  await page.fill("#user", user);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith("/login")), page.click("#sign-in")]);

  // ---- the overview: KPIs per company code and currency, aging bars, trend lines
  await page.goto(`${base}/ar?as_of=${asOf}`);
  const kpis = await page.evaluate(async (asOf) => (await (await fetch(`/api/v1/ar/kpis?as_of=${asOf}`)).json()), asOf);
  const shown = await page.$$eval("#kpis tbody tr", (trs) => trs.map((t) => ({ cc: t.dataset.cc, currency: t.dataset.currency, open: t.querySelector(".open").textContent.trim() })));
  check(shown.length === kpis.length && kpis.length >= 2, `one KPI row per company code and currency (${shown.length} vs ${kpis.length})`);
  for (const k of kpis) {
    const row = shown.find((r) => r.cc === k.company_code && r.currency === k.currency);
    check(row && row.open === amount(k.open_amount), `open AR of ${k.company_code} ${k.currency} is ${amount(k.open_amount)} (shown ${row && row.open})`);
    check(await page.$(`#aging-${k.company_code}-${k.currency}`), `aging chart of ${k.company_code} ${k.currency}`);
  }
  const lines = await page.$$eval("#trend-odp polyline.line", (ps) => ps.map((p) => p.getAttribute("points").trim().split(/\s+/).length));
  check(lines.length >= 2 && lines.every((n) => n >= 2), `the OD% trend has a line of several days per company code and currency: ${lines}`);
  await page.screenshot({ path: path.join(out, "ar-overview.png"), fullPage: true });

  // ---- the call list: the collector's own, the customer on it
  await page.click("#nav-calls");
  await page.waitForSelector(`a[href^="/ar/customers/${customer}"]`);
  check((await page.content()).includes(`collector ${user}`), "a collector sees their own call list");
  await page.screenshot({ path: path.join(out, "ar-calls.png"), fullPage: true });
  await page.goto(`${base}/ar/customers/${customer}?as_of=${asOf}`);

  // ---- the customer page: every open item of the statement, with its amount
  const statement = await page.evaluate(async ([c, asOf]) => (await (await fetch(`/api/v1/ar/customers/${c}/statement?format=json&lang=zh&as_of=${asOf}`)).json()), [customer, asOf]);
  check(statement.lines.length > 0, "the customer has open items");
  const items = await page.textContent("#items");
  for (const l of statement.lines) {
    check(items.includes(amount(l.amount)), `item amount ${amount(l.amount)} on the customer page`);
  }
  await page.screenshot({ path: path.join(out, "ar-customer.png"), fullPage: true });

  // ---- log a call: a Chinese note and a promise to pay
  const promiseBy = new Date(Date.now() + 5 * 86400000).toISOString().slice(0, 10);
  await page.fill("#call-text", note);
  await page.selectOption("#call-channel", "chat");
  await page.fill("#call-via", "WeChat");
  await page.fill("#call-promise-amount", "1000.00");
  await page.fill("#call-promise-currency", "EUR");
  await page.fill("#call-promise-date", promiseBy);
  await Promise.all([page.waitForURL(/done=note/), page.click("#log-call-submit")]);
  check((await page.content()).includes(note), "the note shows on the customer page");
  check((await page.content()).includes(`promise 1,000.00 EUR by ${promiseBy}`), "the promise shows with the note");
  result.promise_by = promiseBy;

  // ---- the customer page printed: the print stylesheet leaves the desk's chrome out
  await page.goto(`${base}/ar/customers/${customer}?as_of=${asOf}`);
  const customerPdf = await page.pdf({ format: "A4", printBackground: true });
  fs.writeFileSync(path.join(out, "ar-customer.pdf"), customerPdf);
  const printed = squeeze(pdfText(customerPdf).join("\n"));
  check(printed.includes(squeeze(statement.name)), "the printed customer page names the customer");
  check(!printed.includes("Logthecall") && !printed.includes("Callist"), "the printed page has no form and no navigation");

  // ---- the statement printed to PDF by Chromium, in Chinese and in English
  for (const lang of ["zh", "en"]) {
    await page.goto(`${base}/api/v1/ar/customers/${customer}/statement?format=html&lang=${lang}&as_of=${asOf}`);
    const styled = await page.$eval("table.items", (t) => getComputedStyle(t).borderCollapse);
    check(styled === "collapse", `the statement's stylesheet applies (${lang})`);
    const pdf = await page.pdf({ format: "A4" });
    fs.writeFileSync(path.join(out, `statement-${lang}.pdf`), pdf);
    const text = squeeze(pdfText(pdf).join("\n"));
    check(text.includes(lang === "zh" ? "对账单" : "Statementofaccount"), `the ${lang} statement's title is in the PDF`);
    if (lang === "zh") check(text.includes("合计"), "the Chinese statement's total line reads 合计");
    for (const l of statement.lines) {
      const k = l.key;
      const key = `${k.company_code}/${k.fiscal_year}/${k.document}/${k.item}`;
      check(text.includes(key), `item ${key} in the ${lang} PDF`);
      check(text.includes(amount(l.amount)), `amount ${amount(l.amount)} in the ${lang} PDF`);
    }
    for (const t of statement.totals) {
      check(text.includes(squeeze(amount(t.total))), `total ${amount(t.total)} ${t.currency} in the ${lang} PDF`);
    }
    result[`statement_${lang}_items`] = statement.lines.length;
  }
  check(errors.length === 0, `no console errors (CSP included): ${errors}`);
  result.ok = true;
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
