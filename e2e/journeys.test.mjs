// Browser end-to-end journeys for Stadtmauer.
//
// Starts the server binary given in STADTMAUER_BIN on a fresh SQLite database with the demo data
// (Landkreis Musterau), drives Debian's Chromium through playwright-core and checks every page it
// visits with axe-core (WCAG 2.1 A/AA). Serious or critical axe violations fail the test; every
// violation is printed for the record. Screenshots go to ../docs/screenshots/.
//
// Run: cd e2e && npm ci && STADTMAUER_BIN=../target/debug/stadtmauer npm test

import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import {
  HERE,
  SCREENSHOTS,
  AXE_SOURCE,
  AXE_TAGS,
  CHROMIUM,
  CHROMIUM_ARGS,
  OFFICE,
  COORDINATOR,
  TOWN,
  SERVER_START_TIMEOUT,
  ACTION_TIMEOUT,
  TEST_TIMEOUT,
  VIEWPORT,
  run,
  startServer,
  stopServer,
  newContext,
  watchErrors,
  newPage,
  url,
  screenshot,
  axeCheck,
  logIn,
  mainText,
  assertNoBrowserErrors,
} from './harness.mjs';

// ---------------------------------------------------------------------------------------------
// Journeys

test('a. office officer logs in and sees the whole Landkreis on the dashboard', { timeout: TEST_TIMEOUT }, async () => {
  const context = await newContext();
  const page = await newPage(context, 'office');
  run.office = { context, page };

  await logIn(page, OFFICE);
  assert.equal(new URL(page.url()).pathname, '/dashboard');
  await page.getByRole('heading', { level: 1, name: 'Übersicht' }).waitFor();

  const text = await mainText(page);
  for (const name of ['Landkreis Musterau', 'Stadt Musterau', 'Gemeinde Kleinmurne', TOWN]) {
    assert.ok(text.includes(name), `dashboard should mention ${name}`);
  }
  // All 16 organisations of the Landkreis are linked from the dashboard.
  const orgLinks = await page.locator('main a[href^="/organisations/"]').evaluateAll((as) =>
    [...new Set(as.map((a) => a.getAttribute('href')))],
  );
  assert.ok(orgLinks.length >= 16, `expected ≥ 16 organisations on the dashboard, got ${orgLinks.length}`);

  await screenshot(page, 'dashboard.png');
  await axeCheck(page, 'dashboard (office, de)');
  assertNoBrowserErrors('office');
});

test('b. office officer opens a member town and adds a contact via htmx', { timeout: TEST_TIMEOUT }, async () => {
  assert.ok(run.office, 'journey a must have logged in');
  const { page } = run.office;
  if (new URL(page.url()).pathname !== '/dashboard') await page.goto(url('/dashboard'));

  await Promise.all([
    page.waitForURL(/\/organisations\/\d+$/),
    page.getByRole('link', { name: TOWN, exact: true }).first().click(),
  ]);
  await page.getByRole('heading', { level: 1, name: TOWN }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'Stammdaten' }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'Ansprechpersonen' }).waitFor();
  const facts = await page.locator('dl.facts').innerText();
  assert.match(facts, /Einwohner/i, 'master data lists the inhabitants');
  assert.ok((await page.locator('#contacts').count()) === 1, 'contacts block present');

  await screenshot(page, 'organisation.png');
  await axeCheck(page, 'organisation (office, de)');

  // Add a contact through the htmx form; the page must not reload.
  const marker = `e2e-${Date.now()}`;
  await page.evaluate((m) => {
    window.__e2eMarker = m;
  }, marker);
  let navigations = 0;
  const onNav = (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  };
  page.on('framenavigated', onNav);

  const contactName = 'Erika E2E-Mustermann';
  const contactFunction = 'Datenschutzbeauftragte (E2E)';
  await page.fill('#c_function', contactFunction);
  await page.fill('#c_name', contactName);
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.request().method() === 'POST' && /\/organisations\/\d+\/contacts$/.test(new URL(r.url()).pathname),
    ),
    page.getByRole('button', { name: 'Ansprechperson hinzufügen' }).click(),
  ]);
  assert.equal(response.request().headers()['hx-request'], 'true', 'the form was submitted by htmx');
  assert.ok(response.status() < 400, `contact POST answered ${response.status()}`);

  await page.locator('#contacts table tbody tr', { hasText: contactName }).waitFor();
  const row = await page.locator('#contacts table tbody tr', { hasText: contactName }).innerText();
  assert.ok(row.includes(contactFunction), 'new contact row shows the function');
  page.off('framenavigated', onNav);
  assert.equal(navigations, 0, 'no navigation happened');
  assert.equal(await page.evaluate(() => window.__e2eMarker), marker, 'page was not reloaded');
  // The swapped-in form is empty again and still there for the next contact.
  assert.equal(await page.inputValue('#c_name'), '');

  await axeCheck(page, 'organisation after htmx swap (office, de)');

  // Still there after a real reload, i.e. stored.
  await page.reload();
  await page.locator('#contacts tbody tr', { hasText: contactName }).waitFor();
  assertNoBrowserErrors('office');
});

test('c. language switch to English and back', { timeout: TEST_TIMEOUT }, async () => {
  assert.ok(run.office, 'journey a must have logged in');
  const { page } = run.office;
  await page.goto(url('/dashboard'));

  await Promise.all([
    page.waitForURL(/\/dashboard$/),
    page.getByRole('button', { name: 'English' }).click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  await nav.getByRole('link', { name: 'Overview' }).waitFor();
  await nav.getByRole('link', { name: 'Organisations' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Deutsch' }).isVisible());

  await screenshot(page, 'dashboard-en.png');
  await axeCheck(page, 'dashboard (office, en)');

  await Promise.all([
    page.waitForURL(/\/dashboard$/),
    page.getByRole('button', { name: 'Deutsch' }).click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Übersicht' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Organisationen' }).waitFor();
  assertNoBrowserErrors('office');
  await run.office.context.close();
  run.office = null;
});

test('d. town coordinator sees only their own town', { timeout: TEST_TIMEOUT }, async () => {
  const context = await newContext();
  try {
    const page = await newPage(context, 'coordinator');
    await page.goto(url('/login'));
    await page.getByRole('heading', { level: 1, name: 'Anmelden' }).waitFor();
    await axeCheck(page, 'login');

    await logIn(page, COORDINATOR);
    assert.equal(new URL(page.url()).pathname, '/dashboard');
    await page.getByRole('heading', { level: 1, name: 'Übersicht' }).waitFor();
    const text = await mainText(page);
    assert.ok(text.includes(TOWN), `coordinator's dashboard shows ${TOWN}`);
    for (const other of ['Stadt Musterau', 'Gemeinde Kleinmurne']) {
      assert.ok(!text.includes(other), `coordinator's dashboard must not mention ${other}`);
    }
    const orgLinks = await page.locator('main a[href^="/organisations/"]').evaluateAll((as) =>
      [...new Set(as.map((a) => a.getAttribute('href')))],
    );
    assert.equal(orgLinks.length, 1, `exactly one organisation linked, got ${orgLinks.join(', ')}`);
    await axeCheck(page, 'dashboard (coordinator)');

    const audit = await page.goto(url('/audit'));
    assert.equal(audit.status(), 200, '/audit is readable for the coordinator');
    await page.getByRole('heading', { level: 1, name: 'Änderungsprotokoll' }).waitFor();
    const auditText = await mainText(page);
    for (const other of ['Stadt Musterau', 'Gemeinde Kleinmurne']) {
      assert.ok(!auditText.includes(other), `coordinator's audit log must not mention ${other}`);
    }
    await axeCheck(page, 'audit (coordinator)');

    const account = await page.goto(url('/account'));
    assert.equal(account.status(), 200);
    await axeCheck(page, 'account (coordinator)');
    assertNoBrowserErrors('coordinator');
  } finally {
    await context.close();
  }
});

test('e. reading works without JavaScript', { timeout: TEST_TIMEOUT }, async () => {
  const context = await newContext({ javaScriptEnabled: false });
  try {
    const page = await newPage(context, 'nojs');
    await logIn(page, OFFICE);
    assert.equal(new URL(page.url()).pathname, '/dashboard');
    await page.getByRole('heading', { level: 1, name: 'Übersicht' }).waitFor();
    const text = await mainText(page);
    assert.ok(text.includes('Landkreis Musterau'));
    assert.ok(text.includes('Stadt Musterau'));

    await Promise.all([
      page.waitForURL(/\/organisations\/\d+$/),
      page.getByRole('link', { name: TOWN, exact: true }).first().click(),
    ]);
    await page.getByRole('heading', { level: 2, name: 'Stammdaten' }).waitFor();
    assert.ok(await page.locator('#contacts').isVisible());
  } finally {
    await context.close();
  }
});

test('f. coordinator imports a CSV into the Informationsverbund; office officer checks provider concentration', { timeout: 120_000 }, async () => {
  // --- 1. The town's Informationsverbund (demo inventory) -------------------------------------
  const context = await newContext();
  let orgId;
  try {
    const page = await newPage(context, 'inventory');
    await logIn(page, COORDINATOR);
    await Promise.all([
      page.waitForURL(/\/organisations\/\d+$/),
      page.getByRole('link', { name: TOWN, exact: true }).first().click(),
    ]);
    await page.getByRole('heading', { level: 1, name: TOWN }).waitFor();
    await Promise.all([
      page.waitForURL(/\/organisations\/\d+\/inventory$/),
      page.getByRole('link', { name: 'Informationsverbund', exact: true }).click(),
    ]);
    orgId = Number(new URL(page.url()).pathname.split('/')[2]);
    assert.ok(orgId > 0, `organisation id from ${page.url()}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    // The demo loaded an inventory for the town: processes and applications are listed.
    for (const name of ['Einwohnermeldewesen', 'Meldewesen (MeldeWerk)']) {
      await page.locator('#inv-objects').getByRole('link', { name, exact: true }).waitFor();
    }
    const before = await mainText(page);
    assert.ok(!before.includes('Wohngeld'), 'nothing called Wohngeld before the import');
    await axeCheck(page, 'inventory (coordinator)');
    await screenshot(page, 'inventory.png');

    // --- 2. Import a CSV: upload, preview (dry run), commit ------------------------------------
    const importLink = page.locator(`main a[href="/organisations/${orgId}/import"]`);
    if ((await importLink.count()) > 0) {
      await Promise.all([page.waitForURL(/\/import$/), importLink.first().click()]);
    } else {
      console.log(`note: the inventory page has no link to /organisations/${orgId}/import; opened by URL`);
      await page.goto(url(`/organisations/${orgId}/import`));
    }
    await page.getByRole('heading', { level: 1, name: 'Inventar importieren' }).waitFor();
    await axeCheck(page, 'import upload (coordinator)');

    const csv = [
      'Art;Name;Hersteller;Version;Betriebsart;Abhängig von;Vertraulichkeit;Integrität;Verfügbarkeit',
      'Anwendung;Wohngeld (WoGeWeb);Sozialsoft eG;2.1;Dienstleister;;;;',
      'Geschäftsprozess;Wohngeld;;;;Wohngeld (WoGeWeb);hoch;hoch;normal',
      '',
    ].join('\r\n');
    const csvPath = path.join(run.tmp, 'wohngeld-inventar.csv');
    fs.writeFileSync(csvPath, csv, 'utf8');
    await page.setInputFiles('#file', csvPath);
    const [previewResp] = await Promise.all([
      page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/organisations/${orgId}/import`,
      ),
      page.getByRole('button', { name: 'Vorschau', exact: true }).click(),
    ]);
    await page.getByRole('heading', { level: 1, name: 'Import prüfen (Probelauf)' }).waitFor();
    const previewText = await mainText(page);
    assert.equal(previewResp.status(), 200, `preview answered ${previewResp.status()}:\n${previewText.slice(0, 1500)}`);
    assert.equal(await page.locator('#import-errors').count(), 0, 'the preview reports no errors');
    assert.match(previewText, /2 Zeilen: 2 neu, 0 zu aktualisieren, neue Abhängigkeiten: 1/);

    // The suggested mapping: one select per column, preset from the headers.
    const expectedMapping = ['kind', 'name', 'vendor', 'version', 'operating_model', 'depends_on', 'need_c', 'need_i', 'need_a'];
    for (const [i, field] of expectedMapping.entries()) {
      assert.equal(await page.inputValue(`#map_${i}`), field, `column ${i} is mapped to ${field}`);
    }
    // The rows that will be created.
    const rows = page.getByRole('table', { name: 'Zeilen' }).locator('tbody tr');
    assert.equal(await rows.count(), 2);
    const rowTexts = await rows.allInnerTexts();
    assert.match(rowTexts[0], /neu\s+Anwendung\s+Wohngeld \(WoGeWeb\)/);
    assert.match(rowTexts[0], /in Ordnung/);
    assert.match(rowTexts[1], /neu\s+Geschäftsprozess\s+Wohngeld\s+Wohngeld \(WoGeWeb\)/);
    assert.match(rowTexts[1], /in Ordnung/);

    await axeCheck(page, 'import preview (coordinator)');
    await screenshot(page, 'import-preview.png');

    await Promise.all([
      page.waitForURL((u) => u.pathname === `/organisations/${orgId}/inventory`),
      page.getByRole('button', { name: 'Übernehmen', exact: true }).click(),
    ]);
    const objects = page.locator('#inv-objects');
    await objects.getByRole('link', { name: 'Wohngeld', exact: true }).waitFor();
    await objects.getByRole('link', { name: 'Wohngeld (WoGeWeb)', exact: true }).waitFor();
    const processRow = await objects.locator('tr', { has: page.getByRole('link', { name: 'Wohngeld', exact: true }) }).innerText();
    assert.match(processRow, /hoch\s+hoch\s+normal/, `process row shows C/I/A: ${processRow}`);

    // --- 3. Object pages: Schutzbedarf, dependency diagram, inheritance -------------------------
    /** {dimension: {level, why}} from the Schutzbedarf table of an object page. */
    const needs = async () => {
      const table = page.locator('section[aria-labelledby="need-h"] table').first();
      const out = {};
      for (const tr of await table.locator('tbody tr').all()) {
        const dim = (await tr.locator('th').innerText()).trim();
        const tds = tr.locator('td');
        out[dim] = { level: (await tds.nth(0).innerText()).trim(), why: (await tds.nth(1).innerText()).trim() };
      }
      return out;
    };
    const checkDiagram = async (label) => {
      const img = page.locator('main img[src$="/diagram.svg"]');
      assert.equal(await img.count(), 1, `${label}: one diagram image`);
      const src = await img.getAttribute('src');
      await page.waitForFunction((s) => {
        const i = document.querySelector(`img[src="${s}"]`);
        return i && i.complete;
      }, src);
      const width = await img.evaluate((i) => i.naturalWidth);
      assert.ok(width > 0, `${label}: the diagram image loaded (naturalWidth ${width})`);
      const fetched = await page.evaluate(async (s) => {
        const r = await fetch(s);
        return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
      }, src);
      assert.equal(fetched.status, 200, `${label}: ${src} answered ${fetched.status}`);
      assert.match(fetched.type || '', /^image\/svg\+xml/, `${label}: content type of ${src}`);
      assert.ok(fetched.text.startsWith('<svg'), `${label}: ${src} starts with <svg: ${fetched.text.slice(0, 80)}`);
      assert.ok(fetched.text.includes('Wohngeld'), `${label}: the diagram names Wohngeld`);
      return src;
    };

    await Promise.all([
      page.waitForURL(/\/inventory\/\d+$/),
      objects.getByRole('link', { name: 'Wohngeld', exact: true }).click(),
    ]);
    await page.getByRole('heading', { level: 1, name: 'Wohngeld', exact: true }).waitFor();
    const processUrl = page.url();
    const own = await needs();
    assert.deepEqual(
      Object.fromEntries(Object.entries(own).map(([k, v]) => [k, v.level])),
      { Vertraulichkeit: 'hoch', Integrität: 'hoch', Verfügbarkeit: 'normal' },
      'the process carries the imported Schutzbedarf',
    );
    for (const v of Object.values(own)) assert.equal(v.why, 'direkt beim Geschäftsprozess festgelegt');
    await checkDiagram('process');
    await axeCheck(page, 'object: process (coordinator)');

    await Promise.all([
      page.waitForURL(/\/inventory\/\d+$/),
      page.locator('section[aria-labelledby="links-h"]').getByRole('link', { name: 'Wohngeld (WoGeWeb)', exact: true }).click(),
    ]);
    await page.getByRole('heading', { level: 1, name: 'Wohngeld (WoGeWeb)', exact: true }).waitFor();
    const inherited = await needs();
    assert.deepEqual(
      Object.fromEntries(Object.entries(inherited).map(([k, v]) => [k, v.level])),
      { Vertraulichkeit: 'hoch', Integrität: 'hoch', Verfügbarkeit: 'normal' },
      'the application inherits the process’s Schutzbedarf',
    );
    // "hoch" comes from the process; "normal" is the floor, which the app explains as such.
    for (const dim of ['Vertraulichkeit', 'Integrität']) {
      assert.equal(inherited[dim].why, 'geerbt von: Wohngeld', `${dim}: why`);
    }
    assert.equal(inherited['Verfügbarkeit'].why, 'normal: kein abhängiges Objekt verlangt mehr');
    // The explanation links back to the process.
    const back = page.locator('section[aria-labelledby="need-h"] a', { hasText: /^Wohngeld$/ }).first();
    assert.equal(new URL(await back.getAttribute('href'), processUrl).href, processUrl);
    const facts = await page.locator('section[aria-labelledby="facts-h"]').innerText();
    for (const f of ['Sozialsoft eG', '2.1', 'beim Dienstleister']) assert.ok(facts.includes(f), `facts show ${f}`);
    await checkDiagram('application');
    await axeCheck(page, 'object: application (coordinator)');
    await screenshot(page, 'object.png');
    assertNoBrowserErrors('inventory');
  } finally {
    await context.close();
  }

  // --- 4. Provider concentration of the Verbund, as the office officer --------------------------
  const officeContext = await newContext();
  try {
    const page = await newPage(officeContext, 'providers');
    await logIn(page, OFFICE);
    await page.goto(url('/verbuende'));
    await Promise.all([
      page.waitForURL(/\/verbuende\/\d+$/),
      page.locator('main a[href^="/verbuende/"]').first().click(),
    ]);
    await Promise.all([
      page.waitForURL(/\/verbuende\/\d+\/providers$/),
      page.getByRole('link', { name: 'Abhängigkeit von Dienstleistern' }).click(),
    ]);
    await page.getByRole('heading', { level: 1, name: /^Dienstleister-Konzentration: / }).waitFor();
    const text = await mainText(page);
    for (const p of ['Kommunale Datenzentrale Nord (fiktiv)', 'Musterau-Net GmbH (fiktiv)', 'Mailcloud Kommunal (fiktiv)']) {
      assert.ok(text.includes(p), `providers page lists ${p}`);
    }
    const img = page.locator('main img[src$="/providers.svg"]');
    assert.equal(await img.count(), 1, 'one provider graph');
    await page.waitForFunction(() => {
      const i = document.querySelector('main img[src$="/providers.svg"]');
      return i && i.complete;
    });
    assert.ok((await img.evaluate((i) => i.naturalWidth)) > 0, 'the provider graph loaded');
    await axeCheck(page, 'providers (office)');
    await screenshot(page, 'providers.png');
    assertNoBrowserErrors('providers');
  } finally {
    await officeContext.close();
  }
});
