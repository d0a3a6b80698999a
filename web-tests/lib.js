// Shared helpers of the browser tests: launch Debian's Chromium headless, log in,
// make valid resident ID numbers, and save a screenshot of every page visited.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const BASE = process.env.SSCARD_BASE_URL ?? 'http://127.0.0.1:8080';
export const PASSWORD = 'sscard-demo';
const SHOTS = process.env.SSCARD_SHOTS ?? path.resolve('..', 'target', 'web-screenshots');
mkdirSync(SHOTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A fresh browser context (its own cookies) with a phone or desktop viewport. */
export async function newPage(browser, { phone = false, locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({
    locale,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export async function login(page, username) {
  await page.goto(`${BASE}/login`);
  await page.getByLabel(/用户名|Username/).fill(username);
  await page.getByLabel(/密码|Password/).fill(PASSWORD);
  await page.locator('form[action="/login"] button[type=submit]').click();
  await page.waitForLoadState('networkidle');
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** A valid 18-character resident ID number (GB 11643) for a generated person. */
export function residentId(region, yyyymmdd, seq) {
  const body = `${region}${yyyymmdd}${String(seq % 1000).padStart(3, '0')}`;
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * WEIGHTS[i], 0);
  return body + CHECK[sum % 11];
}

/** A sequence number unlikely to repeat between runs on the same database. */
export function uniqueSeq() {
  return Math.floor(Math.random() * 900) + 100;
}

/** A random birth date between 1960 and 1999 as YYYYMMDD. */
export function randomBirth() {
  const y = 1960 + Math.floor(Math.random() * 40);
  const m = 1 + Math.floor(Math.random() * 12);
  const d = 1 + Math.floor(Math.random() * 28);
  return `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
}
